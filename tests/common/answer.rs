//! A JSON answer of the emulator, read whole: its HTTP status and body.

use serde_json::Value;

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// The body, `Value::Null` when it is not JSON.
    pub json: Value,
}

impl Answer {
    pub async fn read(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        Answer {
            status,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    pub fn code(&self) -> &str {
        self.json["Code"].as_str().unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.json["Message"].as_str().unwrap_or("")
    }
}
