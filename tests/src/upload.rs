//! Files sent as the GraphQL multipart request specification says, with reqwest's own
//! multipart client: `operations` (the request, files as nulls), `map` (which part goes
//! where) and one part a file.

use serde_json::{Value, json};

use crate::TestServer;

/// A file to send: the variable path it fills, its name, its bytes and declared type.
pub struct File<'a> {
    pub path: &'a str,
    pub name: &'a str,
    pub bytes: Vec<u8>,
    pub media_type: &'a str,
}

impl TestServer {
    /// POSTs `query` with `variables` and `files` as a multipart request, as `token`.
    /// The response's status and JSON body.
    pub async fn upload(
        &self,
        token: &str,
        query: &str,
        variables: Value,
        files: Vec<File<'_>>,
    ) -> (u16, Value) {
        let map: serde_json::Map<String, Value> = files
            .iter()
            .enumerate()
            .map(|(n, f)| (n.to_string(), json!([format!("variables.{}", f.path)])))
            .collect();
        let mut form = reqwest::multipart::Form::new()
            .text(
                "operations",
                json!({ "query": query, "variables": variables }).to_string(),
            )
            .text("map", Value::Object(map).to_string());
        for (n, file) in files.into_iter().enumerate() {
            let part = reqwest::multipart::Part::bytes(file.bytes)
                .file_name(file.name.to_string())
                .mime_str(file.media_type)
                .unwrap();
            form = form.part(n.to_string(), part);
        }
        let response = self
            .http()
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }
}

/// The smallest PNG there is: one transparent pixel.
pub const PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];
