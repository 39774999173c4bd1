import type { ApiError, ErrorKind } from '../generated/bindings';

const KINDS: ReadonlySet<string> = new Set<ErrorKind>([
  'invalid_input', 'aws_config', 'credentials', 'access_denied', 'instance_not_found',
  'instance_not_running', 'instance_unavailable', 'ambiguous_target', 'no_address', 'throttled',
  'service', 'network', 'host_key_unknown', 'host_key_changed', 'host_key_rejected', 'auth_failed',
  'connection_lost', 'timeout', 'ssh', 'io',
]);

/** Rejected invokes carry an ApiError; anything else (a bare string, an Error) is wrapped. */
export function toApiError(e: unknown): ApiError {
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    if (typeof o.kind === 'string' && typeof o.message === 'string') {
      return {
        kind: (KINDS.has(o.kind) ? o.kind : 'io') as ErrorKind,
        message: o.message,
        hint: typeof o.hint === 'string' ? o.hint : null,
      };
    }
    if (e instanceof Error) return { kind: 'io', message: e.message, hint: null };
  }
  return { kind: 'io', message: typeof e === 'string' ? e : String(e), hint: null };
}

export type ErrorAdvice = {
  /** A short title for the panel. */
  title: string;
  /** What to do next, as a list of concrete actions (may be empty). */
  actions: string[];
  /** Whether retrying the same request may help (shows Retry prominently). */
  retryable: boolean;
};

/** A title and the suggested next action for each error kind (the UI switches on kind, never on text). */
export function adviceFor(kind: ErrorKind): ErrorAdvice {
  switch (kind) {
    case 'access_denied':
      return {
        title: 'Access denied',
        actions: [
          'Check your IAM policy: it must allow ec2-instance-connect:SendSSHPublicKey on this instance.',
          'Check its conditions: ec2:osuser must allow this OS user; aws:SourceIp must include your address (VPN?).',
        ],
        retryable: false,
      };
    case 'auth_failed':
      return {
        title: 'The instance refused the key',
        actions: [
          'Is the ec2-instance-connect package installed? (Amazon Linux 2/2023 and Ubuntu 20.04+ have it.)',
          'Does the OS user exist? (Amazon Linux: ec2-user, Ubuntu: ubuntu, Debian: admin.)',
          'Can the instance reach its metadata service (IMDS enabled)?',
        ],
        retryable: false,
      };
    case 'instance_not_running':
      return { title: 'Instance not running', actions: ['Start the instance, wait until it is running, then reconnect.'], retryable: true };
    case 'instance_unavailable':
      return { title: 'Instance not available yet', actions: ['Wait a minute: a starting instance needs a moment.'], retryable: true };
    case 'instance_not_found':
      return { title: 'Instance not found', actions: ['Refresh the instance list; it may have been terminated.'], retryable: false };
    case 'no_address':
      return { title: 'No address to connect to', actions: ['Pick another address (private / public) in the connect dialog.'], retryable: false };
    case 'network':
      return {
        title: 'Cannot reach the instance',
        actions: ['Are you on the VPN / Direct Connect for private addresses?', 'Does the security group allow SSH from you?', 'Is sshd running on that port?'],
        retryable: true,
      };
    case 'throttled':
      return { title: 'AWS is throttling requests', actions: ['Wait a few seconds and try again.'], retryable: true };
    case 'service':
      return { title: 'AWS service error', actions: ['This is on AWS\u2019s side; try again shortly.'], retryable: true };
    case 'credentials':
      return { title: 'No usable AWS credentials', actions: ['Sign in again (aws sso login) or check AWS_PROFILE / ~/.aws/config.'], retryable: true };
    case 'aws_config':
      return { title: 'AWS configuration problem', actions: ['Check ~/.aws/config and the selected profile and region.'], retryable: true };
    case 'host_key_changed':
      return { title: 'Host key changed \u2014 connection refused', actions: [], retryable: false };
    case 'host_key_rejected':
      return { title: 'Host key not trusted', actions: ['Reconnect to see the fingerprint again.'], retryable: true };
    case 'host_key_unknown':
      return { title: 'Unknown host key', actions: ['Verify the fingerprint, then trust it.'], retryable: true };
    case 'connection_lost':
      return { title: 'Connection lost', actions: ['Reconnect: a fresh key is pushed, the scrollback stays.'], retryable: true };
    case 'input_backlog':
      return { title: 'Input not sent', actions: [], retryable: false };
    case 'timeout':
      // The message names the step that timed out and the address; a retry often gets through.
      return { title: 'Timed out', actions: ['Reconnect; if it keeps timing out, check sshd on the instance.'], retryable: true };
    case 'ambiguous_target':
      return { title: 'Ambiguous target', actions: ['Connect by instance id.'], retryable: false };
    case 'invalid_input':
      return { title: 'Invalid input', actions: ['Check the OS user and port.'], retryable: false };
    case 'ssh':
      return { title: 'SSH error', actions: ['Is an SSH server listening on that port?'], retryable: true };
    case 'io':
      return { title: 'Error', actions: [], retryable: true };
  }
}
