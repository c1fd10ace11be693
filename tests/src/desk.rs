//! A small service desk set up through the API, as an admin would: an organization,
//! two tiers of groups with agents and a manager, and a routing rule.

use serde_json::{Value, json};

use crate::TestServer;

pub struct Person {
    pub token: String,
    pub id: Value,
}

pub struct Desk {
    pub admin: String,
    pub manager: Person,
    pub agents: Vec<Person>,
    pub tier2_agent: Person,
    pub requester: Person,
    pub other_requester: Person,
    pub organization_id: Value,
    pub network_group_id: Value,
    pub tier2_group_id: Value,
    pub hardware_category_id: Value,
    pub laptop_category_id: Value,
}

impl TestServer {
    /// Signs a person in once, so that their user row exists, and returns their token and id.
    pub async fn person(&self, sub: &str, roles: &[&str]) -> Person {
        let token = self.token(sub, roles);
        let reply = self
            .gql(Some(&token), "{ viewer { nodeId } }", Value::Null)
            .await;
        Person {
            id: reply.data()["viewer"]["nodeId"].clone(),
            token,
        }
    }

    /// Runs a mutation as `token` and returns its data, failing the test on any error.
    pub async fn must(&self, token: &str, query: &str, variables: Value) -> Value {
        self.gql(Some(token), query, variables).await.data().clone()
    }

    pub async fn desk(&self) -> Desk {
        let admin = self.token("admin", &["admin"]);
        let manager = self.person("mona", &["manager"]).await;
        let agents = vec![
            self.person("ada", &["agent"]).await,
            self.person("bob", &["agent"]).await,
        ];
        let tier2_agent = self.person("tess", &["agent"]).await;
        let requester = self.person("rita", &["requester"]).await;
        let other_requester = self.person("otto", &["requester"]).await;

        let org = self
            .must(&admin, "mutation { createOrganization(input: { name: \"Acme\" }) { organization { id } } }", Value::Null)
            .await;
        let organization_id = org["createOrganization"]["organization"]["id"].clone();
        for person in [&requester, &other_requester] {
            self.must(
                &admin,
                "mutation($u: ID!, $o: ID) { setUserOrganization(input: { userId: $u, organizationId: $o }) { user { id } } }",
                json!({ "u": person.id, "o": organization_id }),
            )
            .await;
        }
        let save_group =
            "mutation($input: SaveGroupInput!) { saveGroup(input: $input) { group { id } } }";
        let tier2 = self
            .must(&admin, save_group, json!({ "input": { "name": "Network tier 2", "tier": 2, "managerId": manager.id } }))
            .await;
        let tier2_group_id = tier2["saveGroup"]["group"]["id"].clone();
        let network = self
            .must(
                &admin,
                save_group,
                json!({ "input": { "name": "Network", "tier": 1, "managerId": manager.id, "escalationGroupId": tier2_group_id } }),
            )
            .await;
        let network_group_id = network["saveGroup"]["group"]["id"].clone();
        let add = "mutation($g: ID!, $u: ID!) { addGroupMember(input: { groupId: $g, userId: $u }) { group { id } } }";
        for agent in &agents {
            self.must(&admin, add, json!({ "g": network_group_id, "u": agent.id }))
                .await;
        }
        self.must(
            &admin,
            add,
            json!({ "g": tier2_group_id, "u": tier2_agent.id }),
        )
        .await;

        let category = "mutation($name: String!, $parent: ID) { createCategory(input: { name: $name, parentId: $parent }) { category { id } } }";
        let hardware = self
            .must(&admin, category, json!({ "name": "Hardware" }))
            .await["createCategory"]["category"]["id"]
            .clone();
        let laptop = self
            .must(
                &admin,
                category,
                json!({ "name": "Laptop", "parent": hardware }),
            )
            .await["createCategory"]["category"]["id"]
            .clone();

        self.must(
            &admin,
            "mutation($g: ID!) { saveAssignmentRule(input: { name: \"VPN incidents\", position: 10, kind: INCIDENT, titleWords: \"vpn\", groupId: $g, agentStrategy: LEAST_OPEN }) { assignmentRule { id } } }",
            json!({ "g": network_group_id }),
        )
        .await;

        Desk {
            admin,
            manager,
            agents,
            tier2_agent,
            requester,
            other_requester,
            organization_id,
            network_group_id,
            tier2_group_id,
            hardware_category_id: hardware,
            laptop_category_id: laptop,
        }
    }
}

pub const CREATE: &str = "mutation($input: CreateTicketInput!) { createTicket(input: $input) { ticket {
    id number kind status title priority version group { id name } assignee { id name } requester { id name } organization { name } } } }";

pub const TRANSITION: &str = "mutation($input: TransitionTicketInput!) { transitionTicket(input: $input) { ticket { id status version resolvedAt } } }";

pub const COMMENT: &str = "mutation($input: AddCommentInput!) { addComment(input: $input) { ticket { firstResponseAt version } comment { id } } }";
