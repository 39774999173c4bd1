//! The lab's AWS accounts. The main one (`123456789012`) holds the full catalogue and is where
//! the static key, the assume-role profiles and `sso-admin` land; `staging` (`210987654321`) is
//! reachable only through IAM Identity Center and has a small catalogue of its own, so "switch
//! the AWS profile, see the instance list change" can be tested. The portal holds two permission
//! sets in each: AdminAccess and ReadOnly in the main account, AdminAccess and Developer in
//! staging (so a setup wizard has roles to choose among, and one that only one account has).

/// One AWS account as IAM Identity Center lists it.
#[derive(Debug)]
pub struct Account {
    pub id: &'static str,
    pub name: &'static str,
    pub email: &'static str,
    /// The permission sets the SSO user holds in this account.
    pub sso_roles: &'static [&'static str],
    /// IAM Identity Center names the role `AWSReservedSSO_<set>_<suffix>`, the suffix differing
    /// per account.
    pub sso_role_suffix: &'static str,
}

/// The account every ARN of the static key, `ops`/`ops-mfa` and `sso-admin` is in.
pub const ACCOUNT_ID: &str = "123456789012";
/// Its name in the SSO portal's ListAccounts.
pub const ACCOUNT_NAME: &str = "keyless-lab";
/// The second account, reachable only through IAM Identity Center (`sso-staging`).
pub const STAGING_ACCOUNT_ID: &str = "210987654321";
pub const STAGING_ACCOUNT_NAME: &str = "staging";

pub const MAIN: Account = Account {
    id: ACCOUNT_ID,
    name: ACCOUNT_NAME,
    email: "lab@example.com",
    sso_roles: &[
        crate::identities::SSO_ROLE_NAME,
        crate::identities::SSO_READONLY_ROLE,
    ],
    sso_role_suffix: "0123456789abcdef",
};

pub const STAGING: Account = Account {
    id: STAGING_ACCOUNT_ID,
    name: STAGING_ACCOUNT_NAME,
    email: "staging@example.com",
    sso_roles: &[
        crate::identities::SSO_ROLE_NAME,
        crate::identities::SSO_DEVELOPER_ROLE,
    ],
    sso_role_suffix: "fedcba9876543210",
};

/// In the order ListAccounts returns them.
pub const ALL: [&Account; 2] = [&MAIN, &STAGING];

pub fn by_id(id: &str) -> Option<&'static Account> {
    ALL.into_iter().find(|a| a.id == id)
}

impl Account {
    pub fn has_sso_role(&self, role: &str) -> bool {
        self.sso_roles.contains(&role)
    }
}
