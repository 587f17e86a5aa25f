//! Constructor-like text for a schedule spec, e.g. `warmup(schedule=cosine(lr=0.1, ...), ...)`,
//! which evaluates back to an equal schedule with `from lrpulse import *`.

use serde_json::Value;

pub(super) fn render(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Number(n) => match n.as_f64() {
            // `{:?}` prints the shortest text that reads back to the same f64, as Python's repr does.
            Some(x) => format!("{x:?}"),
            None => n.to_string(),
        },
        Value::String(s) => format!("{s:?}"),
        Value::Array(items) => format!("[{}]", items.iter().map(render).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => {
            let kind = map.get("kind").and_then(Value::as_str).unwrap_or("schedule_from_dict");
            let args: Vec<String> = map
                .iter()
                .filter(|(k, _)| k.as_str() != "kind")
                .map(|(k, v)| format!("{k}={}", render(v)))
                .collect();
            format!("{kind}({})", args.join(", "))
        }
    }
}
