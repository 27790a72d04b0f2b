//! Fuzzes the ECS and OCSF heads of the JSON decoder: documents recognized by
//! `event.category` (ECS: Elastic Agent, Auditbeat, Winlogbeat with ECS
//! mapping) or by `class_uid` (OCSF process, network and DNS activity).
//!
//! A JSON object from the fuzzer is decoded as it is, then once with an ECS
//! `event.category` and once with each OCSF class it lacks, so that every run
//! reaches those decoders whatever the fuzzer wrote. Property: does not panic.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use seldom_ingest::{JsonDecoder, NormalizeOptions};
use seldom_model::Location;
use serde_json::{Value, json};

fn decode(value: &Value) {
    let mut decoder = JsonDecoder::new(NormalizeOptions::default());
    let _ = decoder.decode(&value.to_string(), Location::at_line(Arc::from("fuzz"), 1));
}

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let original = Value::Object(object.clone());
    decode(&original);
    let selector = data.len() % 3;
    let mut ecs = object.clone();
    if !ecs.contains_key("event") {
        let category = ["process", "network", "dns"][selector];
        ecs.insert(
            "event".into(),
            json!({"category": [category], "type": ["start"]}),
        );
    }
    decode(&Value::Object(ecs));
    for class in [1007, 4001, 4003] {
        let mut ocsf = object.clone();
        ocsf.entry("class_uid").or_insert(json!(class));
        decode(&Value::Object(ocsf));
    }
});
