//! The commands the UI invokes (see `ui/api.js`). Each one forwards to the engine's service
//! (`service_ext`), or to the history and the clipboard; `command_list.rs` names them all
//! (registration, permissions). Tested through the IPC layer in `src-tauri/tests/commands.rs`.

use keyhole_core::{
    AnswerView, ApiRequest, ApiResult, CurlImport, ImportKind, ImportReport, KeyKind, KeysView,
    Matches, Matrix, McpCallResult, McpListing, McpReport, McpTools, Mode, ProfilesView, Saved,
    SessionSummary, Settings, SignInMethod, SignOutOutcome, VariableView, Window,
};
use tauri::{AppHandle, Runtime};

use crate::answer_ext::{self, AnswerExt, Sent};
use crate::error::Result;
use crate::history_ext::{HistoryEntry, HistoryExt};
use crate::mcp_ext;
use crate::request_ext::{CurlCopy, RequestExt};
use crate::service_ext::{self, ServiceExt, SessionState};
use crate::settings_ext::{self, SetUpView, SettingsView};
use crate::tabs_ext::{Tabs, TabsExt};

/// The current settings, and whether they are the local sandbox's.
#[tauri::command]
pub fn load_settings<R: Runtime>(app: AppHandle<R>) -> SettingsView {
    settings_ext::view(&app)
}

/// Validates, normalizes and stores `settings`; a field error changes nothing. Another instance
/// or client switches to that one's session (restored if one is stored).
#[tauri::command]
pub async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    settings: Settings,
) -> Result<SettingsView> {
    app.service().save_settings(&settings)?;
    Ok(settings_ext::view(&app))
}

/// "Set up from this API": instance, client ID and resource from the API's metadata (RFC 9728,
/// registering when needed), saved; a failure saves nothing.
#[tauri::command]
pub async fn set_up_from_api<R: Runtime>(
    app: AppHandle<R>,
    settings: Settings,
) -> Result<SetUpView> {
    let done = app.service().set_up_from_api(&settings).await?;
    Ok(settings_ext::set_up_view(&app, done))
}

/// Settings with an instance but no client ID: Keyhole registers itself (RFC 7591) and saves
/// the client ID; a provider that offers no registration is a `clientId` error.
#[tauri::command]
pub async fn register_client<R: Runtime>(
    app: AppHandle<R>,
    settings: Settings,
) -> Result<SetUpView> {
    let done = app.service().register_client(&settings).await?;
    Ok(settings_ext::set_up_view(&app, done))
}

/// The session, whether a stored one is being restored, and any notice to show once; with
/// `settle_ms`, once a restore running since launch has ended (waiting at most that long).
#[tauri::command]
pub async fn session<R: Runtime>(app: AppHandle<R>, settle_ms: Option<u64>) -> SessionState {
    service_ext::settled_state_for_ui(&app, settle_ms).await
}

/// Signs in with `method` (default: the system browser); emits `sign-in-progress` while it
/// waits (with the code, stage `device_code`, for the device method). The engine picks the device
/// method itself where no browser can open.
#[tauri::command]
pub async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    method: Option<SignInMethod>,
) -> Result<SessionSummary> {
    let method = method.unwrap_or_default();
    app.service().sign_in(method).await.map_err(Into::into)
}

/// Cancels the pending sign-in (its `sign_in` fails with kind `cancelled`).
#[tauri::command]
pub fn cancel_sign_in<R: Runtime>(app: AppHandle<R>) {
    app.service().cancel_sign_in();
}

/// Opens the pending sign-in's URL in the browser again.
#[tauri::command]
pub async fn open_browser_again<R: Runtime>(app: AppHandle<R>) -> Result<()> {
    Ok(app.service().open_browser_again()?)
}

/// Ends the session: revoked, and removed from the keychain and memory.
#[tauri::command]
pub async fn sign_out<R: Runtime>(app: AppHandle<R>) -> SignOutOutcome {
    app.service().sign_out().await.unwrap_or(SignOutOutcome {
        revoked: false,
        message: None,
    })
}

/// Calls the API in the settings with the session's access token.
#[tauri::command]
pub async fn call_api<R: Runtime>(app: AppHandle<R>) -> Result<ApiResult> {
    let url = app.service().config()?.require_api_url()?.clone();
    Ok(app.service().send(&ApiRequest::get(&url)).await?)
}

/// Sends the request shaped in the window (with or without the token), records it in the
/// history and keeps its body as tab `tab`'s answer (the viewer's `answer.id`); fails with kind
/// `cancelled` after `cancel_request`, `api_timeout` after its timeout.
#[tauri::command]
pub async fn send_request<R: Runtime>(
    app: AppHandle<R>,
    request: ApiRequest,
    tab: Option<u64>,
) -> Result<Sent> {
    app.requests().send(&app, &request, tab.unwrap_or(0)).await
}

/// `count` visible lines of answer `answer_id` in `mode` from visible line `from`.
#[tauri::command]
pub async fn answer_lines<R: Runtime>(
    app: AppHandle<R>,
    answer_id: u64,
    mode: Mode,
    from: usize,
    count: usize,
) -> Result<Window> {
    Ok(app.answers().lines(answer_id, mode, from, count)?)
}

/// Folds (or unfolds) the node opened on line `line`; answers the visible line count.
#[tauri::command]
pub async fn answer_fold<R: Runtime>(
    app: AppHandle<R>,
    answer_id: u64,
    mode: Mode,
    line: usize,
    folded: bool,
) -> Result<usize> {
    Ok(app.answers().fold(answer_id, mode, line, folded)?)
}

/// Searches the whole answer for `query`, ignoring case (unfolds everything).
#[tauri::command]
pub async fn answer_search<R: Runtime>(
    app: AppHandle<R>,
    answer_id: u64,
    mode: Mode,
    query: String,
) -> Result<Matches> {
    Ok(app.answers().search(answer_id, mode, &query)?)
}

/// The answer filtered by a JSONPath expression (RFC 9535), as an answer of its own.
#[tauri::command]
pub async fn answer_filter<R: Runtime>(
    app: AppHandle<R>,
    answer_id: u64,
    expression: String,
) -> Result<AnswerView> {
    Ok(app.answers().filter(answer_id, &expression)?)
}

/// Copies the answer as shown (`mode`) to the clipboard; answers the characters copied.
#[tauri::command]
pub async fn answer_copy<R: Runtime>(
    app: AppHandle<R>,
    answer_id: u64,
    mode: Mode,
) -> Result<usize> {
    answer_ext::copy(&app, answer_id, mode).await
}

/// Writes the answer's whole body to the file at `path` (an answer past 50 MB: sent again and
/// streamed into it).
#[tauri::command]
pub async fn save_body<R: Runtime>(
    app: AppHandle<R>,
    answer_id: u64,
    path: String,
) -> Result<Saved> {
    Ok(app.answers().save(answer_id, &path, app.service()).await?)
}

/// Frees answer `answer_id` (a closed tab's, a replaced one); an unknown id changes nothing.
#[tauri::command]
pub fn drop_answer<R: Runtime>(app: AppHandle<R>, answer_id: u64) {
    app.answers().drop_answer(answer_id);
}

/// The Clerk session of the instance in force (signed in with method `clerk`), if one is kept.
#[tauri::command]
pub async fn clerk_session<R: Runtime>(app: AppHandle<R>) -> Result<Option<SessionSummary>> {
    app.service().clerk_session().await.map_err(Into::into)
}

/// "Try every token type": the request once per kind of token held, and what the API made of
/// each (see `Service::try_every_token_type`). Not recorded in the history.
#[tauri::command]
pub async fn try_every_token_type<R: Runtime>(
    app: AppHandle<R>,
    request: ApiRequest,
) -> Result<Matrix> {
    app.service()
        .try_every_token_type(&request)
        .await
        .map_err(Into::into)
}

/// Which Clerk keys (secret key, API key, machine secret key) are kept for the instance, masked.
#[tauri::command]
pub async fn clerk_keys<R: Runtime>(app: AppHandle<R>) -> Result<KeysView> {
    app.service().clerk_keys().await.map_err(Into::into)
}

/// Keeps a pasted Clerk key (`kind`: `secretKey`, `apiKey`, `machineKey`) in the keychain only;
/// a value that is not such a key is a field error and nothing is stored. Answers the keys,
/// masked: the value never comes back.
#[tauri::command]
pub async fn save_clerk_key<R: Runtime>(
    app: AppHandle<R>,
    kind: KeyKind,
    value: String,
) -> Result<KeysView> {
    app.service()
        .save_clerk_key(kind, &value)
        .await
        .map_err(Into::into)
}

/// Forgets a kept Clerk key.
#[tauri::command]
pub async fn forget_clerk_key<R: Runtime>(app: AppHandle<R>, kind: KeyKind) -> Result<KeysView> {
    app.service()
        .forget_clerk_key(kind)
        .await
        .map_err(Into::into)
}

/// An impersonated test session for `user_id` made with the secret key (development keys only
/// unless `allow_production`); the summary says `impersonated: true`.
#[tauri::command]
pub async fn start_test_session<R: Runtime>(
    app: AppHandle<R>,
    user_id: String,
    allow_production: Option<bool>,
) -> Result<SessionSummary> {
    app.service()
        .start_test_session(&user_id, allow_production.unwrap_or(false))
        .await
        .map_err(Into::into)
}

/// Creates an API key for `subject` with the secret key and keeps it; answers it masked.
#[tauri::command]
pub async fn create_api_key<R: Runtime>(app: AppHandle<R>, subject: String) -> Result<String> {
    app.service()
        .create_api_key(&subject)
        .await
        .map_err(Into::into)
}

/// Cancels the request in flight.
#[tauri::command]
pub fn cancel_request<R: Runtime>(app: AppHandle<R>) {
    app.service().cancel_request();
}

/// The tools of the MCP server at `url` (every page), signing in when the server's `401` asks for
/// it (`sign-in-progress` while it waits); `cancel_request` cancels it (kind `cancelled`).
#[tauri::command]
pub async fn mcp_tools<R: Runtime>(app: AppHandle<R>, url: String) -> Result<McpTools> {
    mcp_ext::tools(&app, &url).await
}

/// Calls `tool` of the MCP server at `url` with `arguments` (a JSON object), signing in when
/// asked; an `isError` result is an answer, not an error; `cancel_request` cancels it.
#[tauri::command]
pub async fn mcp_call<R: Runtime>(
    app: AppHandle<R>,
    url: String,
    tool: String,
    arguments: serde_json::Value,
) -> Result<McpCallResult> {
    mcp_ext::call(&app, &url, &tool, &arguments).await
}

/// The resources of the MCP server at `url` (name, URI, description; `offered: false` when it
/// offers none), signing in when asked; `cancel_request` cancels it (kind `cancelled`).
#[tauri::command]
pub async fn mcp_resources<R: Runtime>(app: AppHandle<R>, url: String) -> Result<McpListing> {
    mcp_ext::resources(&app, &url).await
}

/// The prompts of the MCP server at `url` (name, description; `offered: false` when it offers
/// none), signing in when asked; `cancel_request` cancels it (kind `cancelled`).
#[tauri::command]
pub async fn mcp_prompts<R: Runtime>(app: AppHandle<R>, url: String) -> Result<McpListing> {
    mcp_ext::prompts(&app, &url).await
}

/// The authorization report of the MCP server at `url`: one verdict per rule of the MCP
/// authorization spec; waits up to `expiry_wait` seconds for the access token to expire (none:
/// not at all); signs in when asked; `cancel_request` cancels it, the wait too (kind `cancelled`).
#[tauri::command]
pub async fn mcp_check<R: Runtime>(
    app: AppHandle<R>,
    url: String,
    expiry_wait: Option<u64>,
) -> Result<McpReport> {
    mcp_ext::check(&app, &url, expiry_wait).await
}

/// Signs in again for the MCP server at `url` asking also for `scopes`, once the user agreed to
/// the step-up a `403 insufficient_scope` (an error's `neededScopes`) offered; `cancel_request`
/// cancels it.
#[tauri::command]
pub async fn mcp_step_up<R: Runtime>(
    app: AppHandle<R>,
    url: String,
    scopes: String,
) -> Result<SessionSummary> {
    mcp_ext::step_up(&app, &url, &scopes).await
}

/// The last requests sent from the current profile, newest first (requests only: no token, no
/// answer body).
#[tauri::command]
pub fn history<R: Runtime>(app: AppHandle<R>) -> Vec<HistoryEntry> {
    app.history().list_for(app.service().profile().as_deref())
}

/// Forgets the current profile's history.
#[tauri::command]
pub fn clear_history<R: Runtime>(app: AppHandle<R>) {
    app.history()
        .clear_for(&app, app.service().profile().as_deref());
}

/// Copies the request as a curl command to the clipboard; the literal token only when asked.
#[tauri::command]
pub async fn copy_curl<R: Runtime>(
    app: AppHandle<R>,
    request: ApiRequest,
    literal_token: bool,
) -> Result<CurlCopy> {
    app.requests()
        .copy_curl(&app, &request, literal_token)
        .await
}

/// The profiles shared with keyhole-cli, and the current one.
#[tauri::command]
pub fn profiles<R: Runtime>(app: AppHandle<R>) -> Result<ProfilesView> {
    Ok(app.service().profiles()?)
}

/// Makes profile `name` current (null: no profile); its own session is restored, the others
/// stay signed in.
#[tauri::command]
pub async fn switch_profile<R: Runtime>(
    app: AppHandle<R>,
    name: Option<String>,
) -> Result<SettingsView> {
    app.service().switch_profile(name.as_deref())?;
    Ok(settings_ext::view(&app))
}

/// Saves the current settings as profile `name` and makes it current.
#[tauri::command]
pub async fn save_profile<R: Runtime>(app: AppHandle<R>, name: String) -> Result<ProfilesView> {
    app.service().save_profile(&name)?;
    Ok(app.service().profiles()?)
}

/// The requests saved in the current profile (shared with keyhole-cli --saved).
#[tauri::command]
pub fn saved_requests<R: Runtime>(app: AppHandle<R>) -> Result<Vec<ApiRequest>> {
    Ok(app.service().saved_requests()?)
}

/// Saves `request` as `name` in the current profile, with no credential in it.
#[tauri::command]
pub fn save_request<R: Runtime>(
    app: AppHandle<R>,
    name: String,
    request: ApiRequest,
) -> Result<Vec<ApiRequest>> {
    Ok(app.service().save_request(&name, &request)?)
}

/// Deletes the request saved as `name` in the current profile.
#[tauri::command]
pub fn delete_saved_request<R: Runtime>(
    app: AppHandle<R>,
    name: String,
) -> Result<Vec<ApiRequest>> {
    Ok(app.service().delete_saved_request(&name)?)
}

/// The window's tabs as last saved (drafts and status lines; no token, no answer body).
#[tauri::command]
pub fn tabs<R: Runtime>(app: AppHandle<R>) -> Tabs {
    app.tabs().get()
}

/// Keeps the window's tabs for the next launch, credential headers blanked; answers what was kept.
#[tauri::command]
pub fn save_tabs<R: Runtime>(app: AppHandle<R>, tabs: Tabs) -> Tabs {
    app.tabs().save(&app, tabs)
}

/// The current profile's variables, secret values masked.
#[tauri::command]
pub fn variables<R: Runtime>(app: AppHandle<R>) -> Result<Vec<VariableView>> {
    Ok(app.service().variables()?)
}

/// Sets a variable of the current profile (a secret one in the keychain only); answers the
/// variables, masked: a secret value never comes back.
#[tauri::command]
pub fn set_variable<R: Runtime>(
    app: AppHandle<R>,
    name: String,
    value: String,
    secret: bool,
) -> Result<Vec<VariableView>> {
    Ok(app.service().set_variable(&name, &value, secret)?)
}

/// Deletes a variable of the current profile.
#[tauri::command]
pub fn forget_variable<R: Runtime>(app: AppHandle<R>, name: String) -> Result<Vec<VariableView>> {
    Ok(app.service().forget_variable(&name)?)
}

/// The request a pasted curl command makes, with notes (a bearer token in it dropped).
#[tauri::command]
pub fn import_curl<R: Runtime>(app: AppHandle<R>, text: String) -> Result<CurlImport> {
    Ok(app.service().import_curl(&text)?)
}

/// Imports an OpenAPI or Postman document (a file path or a URL) into the current profile's
/// saved requests.
#[tauri::command]
pub async fn import_document<R: Runtime>(
    app: AppHandle<R>,
    kind: ImportKind,
    source: String,
) -> Result<ImportReport> {
    Ok(app.service().import(kind, &source).await?)
}
