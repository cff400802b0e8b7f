//! The demo's descriptions and its data agree: every flight number `tools.yaml` gives as an
//! example (`e.g. UA0008`) is a flight of `demo/seed.sql`, so a model or a person who tries the
//! example finds it.

use crate::util::{app, legacy, rows};
use serde_json::json;

/// The `XX0000` flight numbers after an `e.g.` in `text`.
fn example_flight_numbers(text: &str) -> Vec<String> {
    text.split("e.g.")
        .skip(1)
        .filter_map(|after| {
            let word: String = after.trim_start().chars().take_while(char::is_ascii_alphanumeric).collect();
            let (code, digits) = word.split_at_checked(2)?;
            (code.chars().all(|c| c.is_ascii_uppercase())
                && digits.len() == 4
                && digits.chars().all(|c| c.is_ascii_digit()))
            .then_some(word)
        })
        .collect()
}

#[test]
fn examples_are_found_in_text() {
    assert_eq!(
        example_flight_numbers("Flight number, e.g. UA0008. Seat, e.g. 12C; e.g.  DL0001, e.g. SFO"),
        ["UA0008", "DL0001"]
    );
}

#[tokio::test]
async fn every_example_flight_number_is_in_the_seed() {
    let yaml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tools.yaml")).unwrap();
    let mut examples = example_flight_numbers(&yaml);
    examples.sort();
    examples.dedup();
    assert!(!examples.is_empty(), "tools.yaml gives no example flight number");
    let app = app();
    for number in examples {
        let params = json!({"name": "get_flight", "arguments": {"flight_number": number}});
        let answer = legacy(&app.app, Some("2025-11-25"), "tools/call", params).await;
        let found = rows(&answer.body["result"]);
        assert_eq!(found[0]["flight_number"], number, "tools.yaml's example {number} is not in demo/seed.sql: {found}");
    }
}
