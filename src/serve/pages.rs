//! The HTML pages: login, the queue, a call, admin. Rendered with maud, which escapes every
//! `(value)` it interpolates, so a `<script>` in a comment or an agent id arrives as text.
//! Chinese by default; `/lang/en` switches to English with a cookie. The only script is
//! `/static/app.js` (the security headers forbid inline scripts), reading what it needs from
//! `data-` attributes.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, Markup, DOCTYPE};

use super::auth::{cookie, Authed, Page};
use super::error::ApiError;
use super::App;
use crate::store::review::{self, CallView, Decision, Filter, Role, State as CallState, User};
use crate::Role as Speaker;

/// The interface language.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lang {
    en: bool,
}

impl Lang {
    pub(super) fn of(headers: &HeaderMap) -> Lang {
        Lang {
            en: cookie(headers, "callqa_lang").as_deref() == Some("en"),
        }
    }

    /// The text in the user's language.
    pub(super) fn t(self, zh: &'static str, en: &'static str) -> &'static str {
        if self.en {
            en
        } else {
            zh
        }
    }

    fn state(self, s: CallState) -> &'static str {
        match s {
            CallState::AutoScored => self.t("待分配", "auto-scored"),
            CallState::Assigned => self.t("已分配", "assigned"),
            CallState::InReview => self.t("审核中", "in review"),
            CallState::Published => self.t("已发布", "published"),
            CallState::Acknowledged => self.t("已确认", "acknowledged"),
            CallState::Appealed => self.t("申诉中", "appealed"),
            CallState::Settled => self.t("已裁定", "settled"),
            CallState::Locked => self.t("已锁定", "locked"),
        }
    }

    fn decision(self, d: Decision) -> &'static str {
        match d {
            Decision::Pending => self.t("待定", "pending"),
            Decision::Confirmed => self.t("已确认", "confirmed"),
            Decision::Rejected => self.t("已驳回", "rejected"),
        }
    }

    fn role(self, r: Role) -> &'static str {
        match r {
            Role::Agent => self.t("坐席", "agent"),
            Role::Inspector => self.t("质检员", "inspector"),
            Role::Supervisor => self.t("主管", "supervisor"),
            Role::Admin => self.t("管理员", "admin"),
        }
    }
}

/// A path segment with everything but unreserved characters percent-encoded.
pub(super) fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn clock(ms: u64) -> String {
    format!("{:02}:{:02}", ms / 60_000, ms / 1000 % 60)
}

pub(super) fn points(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p}")
    }
}

pub(super) fn layout(
    l: Lang,
    title: &str,
    user: Option<&User>,
    csrf: &str,
    body: Markup,
) -> Html<String> {
    let page = html! {
        (DOCTYPE)
        html lang=(l.t("zh-CN", "en")) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="csrf-token" content=(csrf);
                title { (title) " · callqa" }
                link rel="stylesheet" href="/static/app.css";
            }
            body {
                nav {
                    a href="/" { (l.t("质检队列", "Queue")) }
                    @if let Some(u) = user {
                        @if u.role != Role::Agent {
                            a href="/calibration" { (l.t("校准", "Calibration")) }
                        }
                        @if matches!(u.role, Role::Admin | Role::Supervisor) {
                            a href="/admin" { (l.t("管理", "Admin")) }
                        }
                        span.who { (u.name) " · " (l.role(u.role)) }
                        button #logout type="button" { (l.t("退出", "Log out")) }
                    }
                    a href=(if l.en { "/lang/zh" } else { "/lang/en" }) {
                        (l.t("English", "中文"))
                    }
                }
                main { (body) }
                script src="/static/app.js" {}
            }
        }
    };
    Html(page.into_string())
}

/// `GET /login`.
pub(crate) async fn login(headers: HeaderMap) -> Html<String> {
    let l = Lang::of(&headers);
    let body = html! {
        h1 { (l.t("登录", "Log in")) }
        form #login {
            label { (l.t("用户名", "User name")) input name="username" autocomplete="username" required; }
            label { (l.t("密码", "Password")) input name="password" type="password" autocomplete="current-password" required; }
            button type="submit" { (l.t("登录", "Log in")) }
            p #error.error {}
        }
    };
    layout(l, l.t("登录", "Log in"), None, "", body)
}

/// `GET /lang/{zh|en}`: remembers the interface language and goes back to the queue.
pub(crate) async fn set_lang(Path(lang): Path<String>) -> Response {
    let value = if lang == "en" { "en" } else { "zh" };
    (
        [(
            header::SET_COOKIE,
            format!("callqa_lang={value}; Path=/; SameSite=Strict; Max-Age=31536000"),
        )],
        Redirect::to("/"),
    )
        .into_response()
}

/// `GET /`: the queue with filters and counts per state.
pub(crate) async fn queue(
    State(app): State<Arc<App>>,
    Page(auth): Page,
    headers: HeaderMap,
    Query(filter): Query<Filter>,
) -> Result<Html<String>, ApiError> {
    let l = Lang::of(&headers);
    let (calls, counts) = app.queue(auth.user.clone(), filter.clone()).await?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let state = text(&filter.state);
    let body = html! {
        h1 { (l.t("质检队列", "Review queue")) }
        form.filters method="get" action="/" {
            label { (l.t("坐席", "Agent")) input name="agent_id" value=(text(&filter.agent_id)); }
            label { (l.t("月份", "Month")) input name="month" placeholder="2026-10" value=(text(&filter.month)); }
            label { (l.t("规则", "Rule")) input name="rule" placeholder="4.6" value=(text(&filter.rule)); }
            label { (l.t("类别", "Category")) input name="category" placeholder="反问" value=(text(&filter.category)); }
            label { (l.t("状态", "State"))
                select name="state" {
                    option value="" { (l.t("全部", "any")) }
                    @for s in CallState::ALL {
                        option value=(s.as_str()) selected[state == s.as_str()] { (l.state(*s)) }
                    }
                }
            }
            label { input type="checkbox" name="flagged" value="true" checked[filter.flagged == Some(true)]; (l.t("仅有问题", "flagged only")) }
            button type="submit" { (l.t("筛选", "Filter")) }
        }
        p.counts {
            @for (s, n) in &counts {
                @let label = CallState::parse(s).map(|s| l.state(s)).unwrap_or("?");
                span.count { (label) " " strong { (n) } }
            }
        }
        table.queue {
            thead { tr {
                th { (l.t("通话", "Call")) } th { (l.t("坐席", "Agent")) } th { (l.t("时间", "Time")) }
                th { (l.t("机评分", "Score")) } th { (l.t("复核分", "Reviewed")) } th { (l.t("状态", "State")) }
                th { (l.t("质检员", "Inspector")) }
            } }
            tbody {
                @for c in &calls {
                    tr.flagged[c.flagged] {
                        td { a href=(format!("/calls/{}", segment(&c.call_id))) { (c.call_id) } }
                        td { (c.agent_id) }
                        td { (c.started_at) }
                        td { (points(c.score)) }
                        td { @if let Some(s) = c.reviewed_score { (points(s)) } }
                        td.state { (l.state(c.state)) }
                        td { (c.assigned_to.clone().unwrap_or_default()) }
                    }
                }
            }
        }
        @if calls.is_empty() { p { (l.t("没有符合条件的通话。", "No calls match.")) } }
    };
    Ok(layout(
        l,
        l.t("质检队列", "Queue"),
        Some(&auth.user),
        &auth.csrf,
        body,
    ))
}

/// `GET /calls/{call_id}`: transcript, audio, deductions, manual items, appeals, history.
pub(crate) async fn call(
    State(app): State<Arc<App>>,
    Page(auth): Page,
    headers: HeaderMap,
    Path(call_id): Path<String>,
) -> Result<Html<String>, ApiError> {
    let l = Lang::of(&headers);
    let user = auth.user.clone();
    let view = app
        .db(move |_, store| Ok(review::call_view(store, &user, &call_id)?))
        .await?;
    let body = call_body(l, &auth, &view);
    Ok(layout(l, &view.call_id, Some(&auth.user), &auth.csrf, body))
}

/// What the user may do on this call's page.
pub(super) struct Can {
    review: bool,
    /// Scoring blind for a calibration: save only, no flags, no publishing.
    calibrating: bool,
    appeal: bool,
    acknowledge: bool,
    decide: bool,
    assign: bool,
}

impl Can {
    /// A participant scoring a calibration call.
    pub(super) fn calibrating() -> Can {
        Can {
            review: true,
            calibrating: true,
            appeal: false,
            acknowledge: false,
            decide: false,
            assign: false,
        }
    }

    fn new(user: &User, view: &CallView) -> Can {
        let s = view.state;
        let mine = view.assigned_to.as_deref() == Some(user.name.as_str());
        let reviewer = (user.role == Role::Inspector && mine) || user.role == Role::Supervisor;
        Can {
            review: reviewer && matches!(s, CallState::Assigned | CallState::InReview),
            calibrating: false,
            appeal: user.role == Role::Agent
                && matches!(s, CallState::Published | CallState::Appealed),
            acknowledge: user.role == Role::Agent && s == CallState::Published,
            decide: user.role == Role::Supervisor && s == CallState::Appealed,
            assign: matches!(user.role, Role::Supervisor | Role::Admin)
                && matches!(s, CallState::AutoScored | CallState::Assigned),
        }
    }
}

fn call_body(l: Lang, auth: &Authed, v: &CallView) -> Markup {
    call_markup(l, &Can::new(&auth.user, v), v)
}

/// The call page's body for what `can` allows.
pub(super) fn call_markup(l: Lang, can: &Can, v: &CallView) -> Markup {
    html! {
        div #call data-call=(v.call_id) data-calibration[can.calibrating] {
            h1 { (v.call_id) }
            p.meta {
                (l.t("坐席", "Agent")) " " strong { (v.agent_id) } " · " (v.started_at) " · "
                (l.t("状态", "State")) " " strong.state { (l.state(v.state)) } " · "
                (l.t("机评分", "Score")) " " strong { (points(v.score)) } "/" (points(v.max_score))
                @if let Some(s) = v.reviewed_score {
                    " · " (l.t("复核分", "Reviewed")) " " strong #reviewed { (points(s)) }
                }
                @if v.version > 0 { " · v" (v.version) }
                @if let (Some(c), Some(y)) = (v.reviewed_credits, v.reviewed_fine_yuan) {
                    @if c > 0.0 || y > 0.0 {
                        " · " (l.t("扣积分", "Credits")) " " strong #credits { (points(c)) }
                        " · " (l.t("罚款", "Fine")) " " strong #fine { (points(y)) } (l.t("元", " yuan"))
                    }
                }
            }
            div.player {
                audio #player controls preload="metadata" src=(format!("/api/calls/{}/audio", segment(&v.call_id))) {}
                label { (l.t("速度", "Speed"))
                    select #speed {
                        @for s in ["0.5", "0.75", "1", "1.25", "1.5", "2"] {
                            option value=(s) selected[s == "1"] { (s) "×" }
                        }
                    }
                }
                span.hint { (l.t("点击任意一句或扣分项，从其前 2 秒开始播放。按 ? 查看快捷键。", "Click any line or item to play from 2 s before it. Press ? for shortcuts.")) }
                canvas #energy height="64" title=(l.t("能量（上：坐席，下：客户；红色：扣分项）。点击跳转。", "Energy (top: agent, bottom: customer; red: deductions). Click to seek.")) {}
            }
            @if can.assign { (assign_form(l)) }
            div.columns {
                section.transcript { (transcript(l, v)) }
                section.items {
                    h2 { (l.t("扣分项", "Deductions")) }
                    ol.deductions { @for d in &v.deductions { (deduction(l, can, d)) } }
                    @if v.deductions.is_empty() { p { (l.t("无机器扣分。", "No machine deductions.")) } }
                    @if !v.stale_decisions.is_empty() { (stale(l, v)) }
                    @if !v.findings.is_empty() {
                        h2 { (l.t("待确认的发现", "Findings to confirm")) }
                        ol.findings { @for f in &v.findings { (finding(l, can, f)) } }
                    }
                    @if !v.flags.is_empty() && !can.calibrating { (flags(l, can, v)) }
                    h2 { (l.t("人工检查项", "Manual items")) }
                    ol.manual { @for m in &v.manual { (manual(l, can, m)) } }
                    @if can.review {
                        div.actions {
                            button #save type="button" { (l.t("保存", "Save")) }
                            @if !can.calibrating {
                                button #publish type="button" { (l.t("提交并发布", "Submit and publish")) }
                            }
                        }
                    }
                    @if can.acknowledge {
                        div.actions { button #acknowledge type="button" { (l.t("确认无异议", "Acknowledge")) } }
                    }
                    @if !v.appeals.is_empty() { h2 { (l.t("申诉", "Appeals")) } (appeals(l, can, v)) }
                    p #message.error {}
                }
            }
            h2 { (l.t("历史记录", "History")) }
            table.history {
                thead { tr { th { (l.t("时间", "When")) } th { (l.t("操作人", "Who")) } th { (l.t("操作", "What")) } th { (l.t("变更后", "After")) } } }
                tbody { @for h in &v.history { tr { td { (h.at) } td { (h.who) } td { (h.action) } td.json { (h.after.to_string()) } } } }
            }
            (help(l))
        }
    }
}

fn assign_form(l: Lang) -> Markup {
    html! {
        div.actions.assign {
            label { (l.t("分配给质检员", "Assign to inspector")) input #inspector name="inspector"; }
            button #assign type="button" { (l.t("分配", "Assign")) }
            button #recall type="button" { (l.t("撤回", "Recall")) }
        }
    }
}

fn transcript(l: Lang, v: &CallView) -> Markup {
    html! {
        div.row.head { div.col { (l.t("坐席", "Agent")) } div.col { (l.t("客户", "Customer")) } }
        @for seg in &v.result.segments {
            @let customer = seg.role == Speaker::Customer;
            div.row.line data-ms=(seg.start_ms) {
                div.col.agent { @if !customer { span.time { (clock(seg.start_ms)) } " " (marked(v, seg)) } }
                div.col.customer { @if customer { span.time { (clock(seg.start_ms)) } " " (marked(v, seg)) } }
            }
        }
    }
}

/// A line's text with the lexicon hits inside it highlighted.
fn marked(v: &CallView, seg: &crate::score::ResultSegment) -> Markup {
    let mut spans: Vec<(usize, usize, &crate::Hit)> = v
        .result
        .hits
        .iter()
        .filter(|h| {
            h.role == seg.role
                && h.start_ms < seg.end_ms.max(seg.start_ms + 1)
                && h.end_ms >= seg.start_ms
        })
        .filter_map(|h| seg.text.find(&h.text).map(|at| (at, at + h.text.len(), h)))
        .collect();
    spans.sort_by_key(|s| s.0);
    let mut pieces: Vec<(&str, Option<&crate::Hit>)> = Vec::new();
    let mut at = 0;
    for (start, end, hit) in spans {
        if start < at || hit.text.is_empty() {
            continue;
        }
        pieces.push((&seg.text[at..start], None));
        pieces.push((&seg.text[start..end], Some(hit)));
        at = end;
    }
    pieces.push((&seg.text[at..], None));
    html! {
        @for (text, hit) in pieces {
            @if let Some(h) = hit {
                mark.hit data-ms=(h.start_ms) title=(format!("{} · {}", h.category, h.phrase)) { (text) }
            } @else {
                (text)
            }
        }
    }
}

fn deduction(l: Lang, can: &Can, d: &review::DeductionView) -> Markup {
    html! {
        li.item.deduction data-id=(d.id) data-ms=(d.deduction.start_ms) data-decision=(d.decision.as_str()) {
            div.head {
                span.rule { (d.deduction.rule) } " "
                span.points { "−" (points(d.deduction.points)) } " "
                span.badge { (l.decision(d.decision)) } " "
                span.time { (clock(d.deduction.start_ms)) }
            }
            div.reason { (d.deduction.reason) }
            @if !d.deduction.words.is_empty() { q { (d.deduction.words) } }
            (verdict_controls(l, can, &d.comment))
            @if can.appeal {
                div.controls {
                    input.appeal-reason type="text" placeholder=(l.t("申诉理由", "Reason for appeal"));
                    button.appeal type="button" { (l.t("申诉", "Appeal")) }
                }
            }
        }
    }
}

/// Confirm / reject with a comment for a reviewer; the comment alone for everyone else.
fn verdict_controls(l: Lang, can: &Can, comment: &str) -> Markup {
    html! {
        @if can.review {
            div.controls {
                input.comment type="text" placeholder=(l.t("备注", "Comment")) value=(comment);
                button.confirm type="button" { (l.t("确认 (c)", "Confirm (c)")) }
                button.reject type="button" { (l.t("驳回 (x)", "Reject (x)")) }
            }
        } @else if !comment.is_empty() {
            div.comment { (comment) }
        }
    }
}

/// A finding: costs nothing until confirmed; then its rule's points and 积分 / 元.
fn finding(l: Lang, can: &Can, f: &review::FindingView) -> Markup {
    let x = &f.finding;
    html! {
        li.item.finding data-id=(f.id) data-ms=(x.start_ms) data-decision=(f.decision.as_str()) {
            div.head {
                span.rule { (x.rule) } " "
                @if x.credits > 0.0 { span.points { (l.t("积分", "credits")) " −" (points(x.credits)) } " " }
                @if x.fine_yuan > 0.0 { span.points { (points(x.fine_yuan)) (l.t("元", " yuan")) } " " }
                span.badge { (l.decision(f.decision)) } " "
                span.time { (clock(x.start_ms)) }
            }
            div.reason { (x.reason) }
            @if !x.words.is_empty() { q { (x.words) } }
            (verdict_controls(l, can, &f.comment))
        }
    }
}

/// The modifiers an inspector may set (扣分加倍 when a complaint followed, …).
fn flags(l: Lang, can: &Can, v: &CallView) -> Markup {
    html! {
        h2 { (l.t("修正标记", "Modifiers")) }
        ul.flags {
            @for f in &v.flags {
                li.flag data-rule=(f.rule) data-flag=(f.flag) {
                    label {
                        input.flag-set type="checkbox" checked[f.set] disabled[!can.review];
                        " " (f.rule) " " (f.flag) " ×" (points(f.value))
                    }
                }
            }
        }
    }
}

/// Verdicts whose deduction a re-score removed: listed so the reviewer sees them, not counted.
fn stale(l: Lang, v: &CallView) -> Markup {
    html! {
        h2 { (l.t("已失效的判定（重新评分后扣分项已不存在）", "Stale verdicts (the deduction is gone after a re-score)")) }
        ul.stale {
            @for s in &v.stale_decisions {
                li { code { (s.key) } " " (l.decision(s.decision)) " " (s.comment) }
            }
        }
    }
}

fn manual(l: Lang, can: &Can, m: &review::ManualView) -> Markup {
    html! {
        li.item.manual data-rule=(m.rule) {
            div.reason { (m.text) }
            @if can.review {
                div.controls {
                    label { (l.t("扣分", "Points")) input.points type="number" min="0" step="0.5" value=[m.points]; }
                    label { input.na type="checkbox" checked[m.answered && m.points.is_none()]; (l.t("不适用", "N/A")) }
                    input.comment type="text" placeholder=(l.t("备注", "Comment")) value=(m.comment);
                }
            } @else if m.answered {
                div.comment {
                    @if let Some(p) = m.points { "−" (points(p)) } @else { (l.t("不适用", "N/A")) }
                    " " (m.comment)
                }
            }
        }
    }
}

fn appeals(l: Lang, can: &Can, v: &CallView) -> Markup {
    html! {
        ol.appeals {
            @for a in &v.appeals {
                li.appeal data-appeal=(a.id) {
                    div { (l.t("扣分项", "Deduction")) " #" (a.deduction) " · " (a.agent) " · " (a.created_at) }
                    div.reason { (a.reason) }
                    @if let Some(o) = a.outcome {
                        div.outcome { strong { (o.as_str()) } @if let Some(p) = a.points { " " (points(p)) } " " (a.comment.clone().unwrap_or_default()) }
                    } @else if can.decide {
                        div.controls {
                            select.outcome {
                                option value="upheld" { (l.t("维持", "upheld")) }
                                option value="overturned" { (l.t("撤销扣分", "overturned")) }
                                option value="changed" { (l.t("改为", "changed to")) }
                            }
                            input.points type="number" min="0" step="0.5";
                            input.comment type="text" placeholder=(l.t("裁定意见", "Comment"));
                            button.decide type="button" { (l.t("裁定", "Decide")) }
                        }
                    }
                }
            }
        }
    }
}

fn help(l: Lang) -> Markup {
    html! {
        div #help hidden {
            h2 { (l.t("快捷键", "Shortcuts")) }
            dl {
                dt { "空格 / Space" } dd { (l.t("播放 / 暂停", "play / pause")) }
                dt { "j / k" } dd { (l.t("下一项 / 上一项", "next / previous item")) }
                dt { "c" } dd { (l.t("确认当前扣分项", "confirm the current deduction")) }
                dt { "x" } dd { (l.t("驳回当前扣分项", "reject the current deduction")) }
                dt { "?" } dd { (l.t("显示 / 隐藏本帮助", "show / hide this help")) }
            }
        }
    }
}

/// `GET /admin`: users and the latest audit entries (admins and supervisors).
pub(crate) async fn admin(
    State(app): State<Arc<App>>,
    Page(auth): Page,
    headers: HeaderMap,
) -> Result<Html<String>, ApiError> {
    if !matches!(auth.user.role, Role::Admin | Role::Supervisor) {
        return Err(ApiError::Forbidden("admins and supervisors only".into()));
    }
    let l = Lang::of(&headers);
    let (users, log) = app
        .db(|_, store| Ok((review::list_users(store)?, review::audit_log(store, 200)?)))
        .await?;
    let body = html! {
        h1 { (l.t("用户", "Users")) }
        p { (l.t("用 callqa user add 添加用户。", "Add users with callqa user add.")) }
        table { tbody { @for u in &users { tr { td { (u.name) } td { (l.role(u.role)) } td { (u.agent_id.clone().unwrap_or_default()) } } } } }
        h1 { (l.t("审计日志", "Audit log")) }
        table.history { tbody { @for (call, e) in &log {
            tr { td { (e.at) } td { (e.who) } td { (call.clone().unwrap_or_default()) } td { (e.action) } td.json { (e.after.to_string()) } }
        } } }
    };
    Ok(layout(
        l,
        l.t("管理", "Admin"),
        Some(&auth.user),
        &auth.csrf,
        body,
    ))
}

/// `GET /static/app.js`.
pub(crate) async fn script() -> Response {
    static_file("text/javascript; charset=utf-8", include_str!("app.js"))
}

/// `GET /static/app.css`.
pub(crate) async fn style() -> Response {
    static_file("text/css; charset=utf-8", include_str!("app.css"))
}

fn static_file(kind: &'static str, body: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(segment("C001"), "C001");
        assert_eq!(segment("a/b?c"), "a%2Fb%3Fc");
        assert_eq!(segment("通话"), "%E9%80%9A%E8%AF%9D");
    }

    #[test]
    fn interpolated_text_is_escaped() {
        let page = layout(
            Lang { en: false },
            "<script>alert(1)</script>",
            None,
            "\"onload=",
            html! { p { "<b>" } },
        );
        assert!(!page.0.contains("<script>alert"), "{}", page.0);
        assert!(page.0.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.0.contains("&quot;onload="));
    }
}
