//! Who holds what: custom roles, role assignments, groups, and Aritma
//! actions and policies, made by the tenant's owner as the set-up of a
//! test about what they grant.

use serde_json::json;

use super::{TestTenant, TestUser};

impl TestTenant {
    /// A custom role holding `permissions`; its id.
    pub async fn role_with(&self, name: &str, permissions: &[&str]) -> String {
        let r = self
            .owner
            .post(
                "/api/v1/roles",
                json!({ "name": name, "permissions": permissions }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.ok()["id"].as_str().unwrap().to_string()
    }

    /// Gives `user` the role `role_id` on the whole tenant.
    pub async fn give_role(&self, user: &str, role_id: &str) {
        let r = self
            .owner
            .post(
                &format!("/api/v1/users/{user}/roles"),
                json!({ "roleId": role_id }),
            )
            .await;
        assert!(r.status < 300, "{}", r.text);
    }

    /// A signed-in user holding exactly `permissions` (through a role of
    /// its own, besides `member`).
    pub async fn user_holding(&self, local: &str, permissions: &[&str]) -> TestUser {
        let user = self.user(local).await;
        let role = self.role_with(&format!("{local} role"), permissions).await;
        self.give_role(&user.id, &role).await;
        user
    }

    /// A group; its id.
    pub async fn group(&self, name: &str) -> String {
        let r = self
            .owner
            .post("/api/v1/groups", json!({ "name": name }))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.ok()["id"].as_str().unwrap().to_string()
    }

    /// Defines the tenant's own Aritma actions (`POST /core/iam/v1/actions`).
    pub async fn define_actions(&self, names: &[&str]) {
        for name in names {
            let r = self
                .owner
                .post("/core/iam/v1/actions", json!({ "name": name }))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
    }

    /// Grants `action` on `scope` to `subject` (an Aritma policy).
    pub async fn policy(&self, subject: &str, action: &str, scope: &str) {
        let r = self
            .owner
            .post(
                "/core/iam/v1/policies",
                json!({ "subject": subject, "action": action, "scope": scope }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
}
