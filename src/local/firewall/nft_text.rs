//! nft's JSON rules written back the way `nft list ruleset` prints them, near enough for a
//! reader to find the rule (`tcp dport 7890 drop`, `ip saddr 192.0.2.0/24 accept`).
//!
//! Pure text; must not decide anything about the rule.

use serde_json::Value;

/// A rule's expressions as one line.
pub fn render_rule(exprs: &[Value]) -> String {
    let parts: Vec<String> = exprs.iter().map(render_expr).collect();
    parts.join(" ")
}

/// One expression the way `nft list ruleset` writes it (near enough for a reader to find it).
pub fn render_expr(expr: &Value) -> String {
    let Some((key, value)) = expr.as_object().and_then(|o| o.iter().next()) else {
        return "?".into();
    };
    match key.as_str() {
        "match" => {
            let op = match value["op"].as_str() {
                Some("==" | "in") | None => String::new(),
                Some(op) => format!("{op} "),
            };
            format!(
                "{} {op}{}",
                render_operand(&value["left"]),
                render_operand(&value["right"])
            )
        }
        "reject" => match (value["type"].as_str(), value["expr"].as_str()) {
            (None | Some("icmpx"), None | Some("port-unreachable")) => "reject".into(),
            (Some(kind), Some(code)) => format!("reject with {kind} {code}"),
            (Some(kind), None) => format!("reject with {kind}"),
            (None, Some(code)) => format!("reject with {code}"),
        },
        "jump" | "goto" => format!("{key} {}", value["target"].as_str().unwrap_or("?")),
        "vmap" if value["data"].is_string() => format!(
            "{} vmap {}",
            render_operand(&value["key"]),
            render_operand(&value["data"])
        ),
        "vmap" => {
            let entries: Vec<String> = value["data"]["set"]
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .map(|e| format!("{} : {}", render_operand(&e[0]), render_expr(&e[1])))
                .collect();
            format!(
                "{} vmap {{ {} }}",
                render_operand(&value["key"]),
                entries.join(", ")
            )
        }
        "limit" => {
            let over = if value["inv"] == true { "over " } else { "" };
            format!(
                "limit rate {over}{}/{}",
                render_operand(&value["rate"]),
                render_operand(&value["per"])
            )
        }
        "xt" => format!(
            "xt {} {}",
            render_operand(&value["type"]),
            render_operand(&value["name"])
        ),
        "log" => match value["prefix"].as_str() {
            Some(prefix) => format!("log prefix {prefix:?}"),
            None => "log".into(),
        },
        other => other.to_owned(),
    }
}

/// The left or right side of a match.
pub fn render_operand(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(render_operand)
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(o) => {
            if let Some(p) = o.get("payload") {
                format!(
                    "{} {}",
                    render_operand(&p["protocol"]),
                    render_operand(&p["field"])
                )
            } else if let Some(k) = o.get("meta") {
                format!("meta {}", render_operand(&k["key"]))
            } else if let Some(k) = o.get("ct") {
                format!("ct {}", render_operand(&k["key"]))
            } else if let Some(r) = o.get("range") {
                format!("{}-{}", render_operand(&r[0]), render_operand(&r[1]))
            } else if let Some(p) = o.get("prefix") {
                format!(
                    "{}/{}",
                    render_operand(&p["addr"]),
                    render_operand(&p["len"])
                )
            } else if let Some(s) = o.get("set").and_then(Value::as_array) {
                let items: Vec<String> = s.iter().map(render_operand).collect();
                format!("{{ {} }}", items.join(", "))
            } else if let Some(e) = o.get("elem") {
                render_operand(&e["val"])
            } else if let Some(f) = o.get("fib") {
                format!(
                    "fib {} {}",
                    render_operand(&f["flags"]),
                    render_operand(&f["result"])
                )
            } else {
                "?".into()
            }
        }
        Value::Bool(b) => if *b { "exists" } else { "missing" }.into(),
        Value::Null => "?".into(),
    }
}
