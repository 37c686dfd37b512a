//! What leaves the review store: the reviewed scores the rollup and `calls.jsonl` use, and the
//! tables `callqa export --reviews` writes.

use super::*;

/// The score a published review gives a call, and which review version it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ReviewedScore {
    pub score: f64,
    pub version: i64,
    /// 积分 / 元 the published review charges, confirmed assist findings included.
    pub credits: f64,
    pub fine_yuan: f64,
}

/// Every call with a published review: call_id → its reviewed score and version. Monthly
/// rollups and `calls.jsonl` use these where present; an appealed call keeps its published
/// version until the appeal is settled.
pub fn reviewed_scores(
    store: &Store,
) -> std::result::Result<HashMap<String, ReviewedScore>, StoreError> {
    // The tables exist once the store is open; an older binary's database has none.
    let mut stmt = store
        .conn
        .prepare(
            "SELECT call_id, reviewed_score, version, COALESCE(reviewed_credits, 0),
                    COALESCE(reviewed_fine, 0) FROM call_index
             WHERE state IN ('published','acknowledged','appealed','settled','locked')
               AND reviewed_score IS NOT NULL",
        )
        .map_err(|e| store.err(e))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                ReviewedScore {
                    score: r.get(1)?,
                    version: r.get(2)?,
                    credits: r.get(3)?,
                    fine_yuan: r.get(4)?,
                },
            ))
        })
        .map_err(|e| store.err(e))?;
    rows.collect::<rusqlite::Result<_>>()
        .map_err(|e| store.err(e))
}

/// The tables `callqa export --reviews` writes, each with the query that reads it.
pub const EXPORT_TABLES: &[(&str, &str)] = &[
    (
        "reviews",
        "SELECT call_id, version, inspector, auto_score, reviewed_score, credits, fine_yuan,
                created_at, published_at, superseded FROM reviews ORDER BY call_id, version",
    ),
    (
        "decisions",
        "SELECT r.call_id, r.version, d.deduction, d.key, d.decision, d.points, d.comment
         FROM decisions d JOIN reviews r ON r.id = d.review_id
         ORDER BY r.call_id, r.version, d.deduction",
    ),
    (
        "findings",
        "SELECT r.call_id, r.version, f.key, f.decision, f.comment
         FROM finding_decisions f JOIN reviews r ON r.id = f.review_id
         ORDER BY r.call_id, r.version, f.key",
    ),
    (
        "flags",
        "SELECT r.call_id, r.version, g.rule, g.flag
         FROM review_flags g JOIN reviews r ON r.id = g.review_id
         ORDER BY r.call_id, r.version, g.rule",
    ),
    (
        "manual",
        "SELECT r.call_id, r.version, m.rule, m.points, m.comment
         FROM manual_answers m JOIN reviews r ON r.id = m.review_id
         ORDER BY r.call_id, r.version, m.rule",
    ),
    (
        "appeals",
        "SELECT a.id, a.call_id, r.version, a.deduction, a.agent, a.reason, a.created_at,
                a.outcome, a.points, a.comment, a.decided_by, a.decided_at
         FROM appeals a JOIN reviews r ON r.id = a.review_id ORDER BY a.id",
    ),
    (
        "audit",
        "SELECT id, at, who, call_id, action, before, after FROM audit ORDER BY id",
    ),
];

/// One export table as text: its column names and rows (NULL is empty).
pub fn export_table(store: &Store, sql: &str) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    use rusqlite::types::ValueRef;
    let e = sql_err(store);
    let mut stmt = store.conn.prepare(sql).map_err(&e)?;
    let header: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
    let width = header.len();
    let mut rows = stmt.query([]).map_err(&e)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(&e)? {
        let mut row = Vec::with_capacity(width);
        for i in 0..width {
            row.push(match r.get_ref(i).map_err(&e)? {
                ValueRef::Null => String::new(),
                ValueRef::Integer(n) => n.to_string(),
                ValueRef::Real(f) => f.to_string(),
                ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
            });
        }
        out.push(row);
    }
    Ok((header, out))
}
