// What the app makes of a backend error: the UI switches on `kind` and `fix` (data the backend
// sends, generated into bindings.ts), never on the text. The backend's `hint` is its own advice
// in words for any front end; this file owns the app's words: a title per kind, and how to do a
// fix in this app (the CLI says the same fix as its commands and flags).
import { ERROR_KINDS } from '../generated/bindings';
import type { ApiError, ErrorKind, Fix, Via } from '../generated/bindings';

const KINDS: ReadonlySet<string> = new Set<string>(ERROR_KINDS);
const VIAS: ReadonlySet<string> = new Set<Via>(['private', 'public', 'eice', 'auto']);

/** The fix of a rejected invoke, when it has one of the known shapes (else null: nothing to offer). */
function fixOf(v: unknown): Fix | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const str = (k: string) => typeof o[k] === 'string';
  switch (o.type) {
    case 'sso_login': return str('aws_profile') ? { type: 'sso_login', aws_profile: o.aws_profile as string } : null;
    case 'mfa_code': return str('aws_profile') ? { type: 'mfa_code', aws_profile: o.aws_profile as string } : null;
    case 'forget_host_key': return str('instance_id') ? { type: 'forget_host_key', instance_id: o.instance_id as string } : null;
    case 'use_address': return VIAS.has(o.via as string) ? { type: 'use_address', via: o.via as Via } : null;
    case 'choose_region': case 'start_instance': case 'trust_host_key': return { type: o.type };
    default: return null;
  }
}

/** Rejected invokes carry an ApiError; anything else (a bare string, an Error) is wrapped. */
export function toApiError(e: unknown): ApiError {
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    if (typeof o.kind === 'string' && typeof o.message === 'string') {
      return {
        kind: (KINDS.has(o.kind) ? o.kind : 'io') as ErrorKind,
        message: o.message,
        hint: typeof o.hint === 'string' ? o.hint : null,
        fix: fixOf(o.fix),
      };
    }
    if (e instanceof Error) return { kind: 'io', message: e.message, hint: null, fix: null };
  }
  return { kind: 'io', message: typeof e === 'string' ? e : String(e), hint: null, fix: null };
}

const VIA_WORDS: Record<Via, string> = { private: 'Private', public: 'Public', eice: 'EICE', auto: 'Auto' };

/** How to do a fix in this app, in its own words (the Sign in / MFA buttons come with the first two). */
export function fixText(fix: Fix): string {
  switch (fix.type) {
    case 'sso_login': return `Sign in with IAM Identity Center (profile ${fix.aws_profile}) to continue.`;
    case 'mfa_code': return `Enter the current code of your MFA device to assume the role of profile ${fix.aws_profile}.`;
    case 'choose_region': return 'Choose the regions to list in the region picker.';
    case 'start_instance': return 'Start the instance (or wait until it is running), then reconnect.';
    case 'trust_host_key': return 'Reconnect and compare the fingerprint before you trust the key.';
    case 'forget_host_key':
      return `Keyless keeps the key it trusts until you forget it: run \`keyless known-hosts forget ${fix.instance_id}\` in a terminal, then reconnect.`;
    case 'use_address': return `Connect again and choose the ${VIA_WORDS[fix.via]} address in the connect dialog.`;
  }
}

export type ErrorAdvice = {
  /** A short title for the panel. */
  title: string;
  /** What to check when the backend gave no advice of its own (may be empty). */
  actions: string[];
  /** Whether retrying the same request may help (shows Retry prominently). */
  retryable: boolean;
};

/** The one table keyed by kind: a title, a checklist for when the backend says nothing more, and whether to retry. */
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
      return { title: 'Instance not running', actions: [], retryable: true };
    case 'instance_unavailable':
      return { title: 'Instance not available yet', actions: ['Wait a minute: a starting instance needs a moment.'], retryable: true };
    case 'instance_not_found':
      return { title: 'Instance not found', actions: ['Refresh the instance list; it may have been terminated.'], retryable: false };
    case 'no_address':
      return { title: 'No address to connect to', actions: ['Pick another address (private / public) in the connect dialog.'], retryable: false };
    case 'network':
      return {
        title: 'Cannot reach the instance',
        actions: ['Are you on the VPN / Direct Connect for private addresses? Without one, choose Auto or EICE (the VPC\u2019s Instance Connect Endpoint).', 'Does the security group allow SSH from you?', 'Is sshd running on that port?'],
        retryable: true,
      };
    case 'no_endpoint':
      return { title: 'No EC2 Instance Connect Endpoint', actions: ["Create one in the instance's VPC, or reach the instance another way (VPN / public address)."], retryable: false };
    case 'endpoint_not_ready':
      return { title: 'Endpoint not ready', actions: ['A new endpoint takes a few minutes; try again shortly.'], retryable: true };
    case 'tunnel_refused':
      return { title: 'The endpoint refused the tunnel', actions: ['An endpoint forwards only to port 22 or 3389 of a private address in its VPC.'], retryable: false };
    case 'tunnel_denied':
      return {
        title: 'Tunnel not allowed',
        actions: ['Your IAM policy must allow ec2-instance-connect:OpenTunnel on the endpoint (conditions remotePort, privateIpAddress, maxTunnelDuration).'],
        retryable: false,
      };
    case 'tunnel_limit':
      return { title: 'Endpoint busy', actions: ['The endpoint allows 20 connections, shared by the whole VPC: close other sessions or wait.'], retryable: true };
    case 'tunnel_closed':
      return { title: 'Tunnel closed', actions: ['Reconnect for a new tunnel: a fresh key is pushed, the scrollback stays.'], retryable: true };
    case 'throttled':
      return { title: 'AWS is throttling requests', actions: ['Wait a few seconds and try again.'], retryable: true };
    case 'service':
      return { title: 'AWS service error', actions: ['This is on AWS\u2019s side; try again shortly.'], retryable: true };
    case 'credentials':
      return { title: 'No usable AWS credentials', actions: ['Sign in again, or choose another AWS profile.'], retryable: true };
    case 'aws_config':
      return { title: 'AWS configuration problem', actions: ['Check ~/.aws/config and the selected profile and region.'], retryable: true };
    case 'host_key_changed':
      return { title: 'Host key changed \u2014 connection refused', actions: [], retryable: false };
    case 'host_key_rejected':
      return { title: 'Host key not trusted', actions: ['Reconnect to see the fingerprint again.'], retryable: true };
    case 'host_key_unknown':
      return { title: 'Unknown host key', actions: [], retryable: true };
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
    case 'file_not_found':
      return { title: 'No such file', actions: ['Refresh the folder: it may have been moved or deleted.'], retryable: false };
    case 'file_permission_denied':
      return { title: 'Permission denied', actions: ['The remote user may not do that there; pick a folder it owns.'], retryable: false };
    case 'sftp':
      return { title: 'File transfer error', actions: ['Does the instance\u2019s sshd serve SFTP (Subsystem sftp)?'], retryable: true };
  }
}

/**
 * The advice to show under an error, each piece once: the backend's hint (its own words), then
 * how to do its fix here; the kind's checklist only when the backend said nothing of its own.
 */
export function adviceLines(error: ApiError): string[] {
  const own = [error.hint, error.fix ? fixText(error.fix) : null].filter((s): s is string => !!s);
  return own.length ? own : adviceFor(error.kind).actions;
}
