//! The HTML pages of the sandbox's authorization: the error page, and (interactive mode)
//! LinkedIn's sign-in page and permissions page. Plain HTML forms, no script: one `<main>`, one
//! `<h1>`, labels bound to their inputs, errors tied to their field, colours with AA contrast, and
//! every interpolated value escaped.

use axum::{
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

/// Where the sign-in form posts (fields `request_id`, `session_key`, `session_password`).
pub(super) const LOGIN_SUBMIT: &str = "/oauth/v2/login-submit";
/// Where the permissions form posts (fields `request_id`, `action` = `allow` | `cancel`).
pub(super) const DECISION: &str = "/oauth/v2/authorization-decision";
/// LinkedIn's words for an empty password.
pub(super) const EMPTY_PASSWORD: &str = "Please enter a password.";

/// On white, LinkedIn's blue is 5.7:1, the grey 5.7:1 and the red 6.5:1 (WCAG AA asks 4.5:1).
const STYLE: &str = "\
body{margin:0;background:#f3f2ef;color:#1d2226;font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;line-height:1.5}\
main{box-sizing:border-box;max-width:26rem;margin:3rem auto;padding:1.5rem 1.75rem;background:#fff;border-radius:.5rem;box-shadow:0 0 0 1px rgba(0,0,0,.08),0 4px 12px rgba(0,0,0,.08)}\
.brand{margin:0 0 1rem;font-weight:700;color:#0a66c2}\
.brand span{font-weight:400;color:#56687a}\
h1{margin:0 0 .25rem;font-size:1.75rem;font-weight:600}\
.muted{margin:0 0 1rem;color:#56687a}\
.field{margin:1rem 0}\
label{display:block;font-weight:600;margin-bottom:.25rem}\
input{box-sizing:border-box;width:100%;padding:.6rem .75rem;font:inherit;color:inherit;border:1px solid #56687a;border-radius:.25rem}\
input[aria-invalid=true]{border-color:#b3261e;border-width:2px}\
.error{margin:.25rem 0 0;color:#b3261e;font-weight:600}\
button{font:inherit;font-weight:600;padding:.6rem 1.5rem;border-radius:1.5rem;border:1px solid #0a66c2;background:#0a66c2;color:#fff;cursor:pointer}\
button.secondary{background:#fff;color:#0a66c2}\
button:focus-visible,input:focus-visible{outline:3px solid #1d2226;outline-offset:2px}\
.wide{width:100%;margin-top:.5rem}\
.actions{display:flex;gap:.75rem;justify-content:flex-end;margin-top:1.5rem}\
ul.scopes{padding-left:1.25rem;margin:1rem 0}\
ul.scopes li{margin:.4rem 0}";

/// Escapes text for HTML content and double- or single-quoted attribute values.
pub(super) fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The shared shell; `title` is text (escaped here), `body` is HTML already escaped.
fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>\
         <p class=\"brand\">LinkedIn <span>sandbox</span></p>{body}</main></body></html>",
        html_escape(title)
    )
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Html(document(title, body)),
    )
        .into_response()
}

/// LinkedIn answers a bad client or redirect URI with an error page, never a redirect (the
/// redirect target cannot be trusted); so does a sign-in request that is unknown, expired or used.
pub(super) fn error_page(message: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "LinkedIn sandbox: authorization error",
        &format!(
            "<h1>Bummer, something went wrong.</h1><p>{}</p>",
            html_escape(message)
        ),
    )
}

/// LinkedIn's sign-in page: email (prefilled) and password; `error` is the password's.
pub(super) fn sign_in(
    request_id: &str,
    app_name: &str,
    member_name: &str,
    email: &str,
    error: Option<&str>,
) -> Response {
    let (invalid, message) = match error {
        Some(error) => (
            " aria-invalid=\"true\" aria-describedby=\"password-error\" autofocus",
            format!(
                "<p id=\"password-error\" class=\"error\">{}</p>",
                html_escape(error)
            ),
        ),
        None => ("", String::new()),
    };
    let body = format!(
        "<h1>Sign in</h1>\
         <p class=\"muted\">Stay updated on your professional world. Sign in to continue to \
         {app}.</p>\
         <p>Sandbox member: <strong>{member}</strong></p>\
         <form method=\"post\" action=\"{LOGIN_SUBMIT}\" novalidate>\
         <input type=\"hidden\" name=\"request_id\" value=\"{id}\">\
         <div class=\"field\"><label for=\"username\">Email or phone</label>\
         <input id=\"username\" name=\"session_key\" type=\"text\" inputmode=\"email\" \
         autocomplete=\"username\" value=\"{email}\"></div>\
         <div class=\"field\"><label for=\"password\">Password</label>\
         <input id=\"password\" name=\"session_password\" type=\"password\" \
         autocomplete=\"current-password\"{invalid}>{message}</div>\
         <button type=\"submit\" class=\"wide\">Sign in</button></form>",
        app = html_escape(app_name),
        member = html_escape(member_name),
        id = html_escape(request_id),
        email = html_escape(email),
    );
    page(StatusCode::OK, "Sign in | LinkedIn sandbox", &body)
}

/// LinkedIn's permissions page: what the app asks for, in words, and Allow / Cancel.
pub(super) fn permissions(
    request_id: &str,
    app_name: &str,
    member_name: &str,
    scopes: &[String],
) -> Response {
    let items: String = scopes
        .iter()
        .map(|scope| {
            format!(
                "<li data-scope=\"{}\">{}</li>",
                html_escape(scope),
                html_escape(&scope_in_words(scope))
            )
        })
        .collect();
    let body = format!(
        "<h1>{app} would like to:</h1>\
         <ul class=\"scopes\">{items}</ul>\
         <p>Signed in as <strong>{member}</strong>.</p>\
         <p class=\"muted\">You can stop this app from accessing your account at any time in \
         your settings.</p>\
         <form method=\"post\" action=\"{DECISION}\">\
         <input type=\"hidden\" name=\"request_id\" value=\"{id}\">\
         <div class=\"actions\">\
         <button type=\"submit\" name=\"action\" value=\"cancel\" class=\"secondary\">Cancel</button>\
         <button type=\"submit\" name=\"action\" value=\"allow\">Allow</button>\
         </div></form>",
        app = html_escape(app_name),
        member = html_escape(member_name),
        id = html_escape(request_id),
    );
    page(
        StatusCode::OK,
        &format!("Authorize {app_name} | LinkedIn sandbox"),
        &body,
    )
}

/// What a scope lets the app do, as LinkedIn's permissions page words it; an unknown scope by
/// its name.
pub(super) fn scope_in_words(scope: &str) -> String {
    match scope {
        "r_ads" => "Retrieve your advertising accounts",
        "rw_ads" => "Manage your advertising accounts",
        "r_ads_reporting" => "Retrieve reporting for your advertising accounts",
        "r_ads_leadgen_automation" => {
            "Access your Lead Gen Forms and retrieve the leads of your advertising accounts"
        }
        "r_organization_admin" => {
            "Retrieve your organization's pages and their reporting data (including follower, \
             visitor and content analytics)"
        }
        "rw_organization_admin" => {
            "Manage your organization's pages and retrieve their reporting data"
        }
        "r_marketing_leadgen_automation" => {
            "Access your lead generation forms and retrieve their leads, for ads, pages and events"
        }
        "r_basicprofile" => {
            "Use your basic profile including your name, photo, headline, and public profile URL"
        }
        "r_liteprofile" | "profile" => "Use your name and photo",
        "openid" => "Use your name and photo to sign you in",
        "email" => "Use the primary email address associated with your LinkedIn account",
        other => other,
    }
    .to_owned()
}
