use textback_app::IpcError;
use textback_app::dto::ProviderConnectResult;
use textback_providers::Secret;
use textback_providers::twilio::TwilioAuth;

use super::DeskState;

/// Checks the credentials live and, only if they work, keeps them in the OS keychain.
#[tauri::command]
pub async fn provider_connect(
    desk: DeskState<'_>,
    account_sid: String,
    auth_token: Option<String>,
    api_key_sid: Option<String>,
    api_key_secret: Option<String>,
) -> Result<ProviderConnectResult, IpcError> {
    let desk = desk.get().await?;
    let account_sid = account_sid.trim().to_owned();
    let auth = match (auth_token, api_key_sid, api_key_secret) {
        (Some(t), _, _) if !t.trim().is_empty() => TwilioAuth::AuthToken {
            account_sid,
            auth_token: Secret::new(t.trim()),
        },
        (_, Some(k), Some(s)) => TwilioAuth::ApiKey {
            account_sid,
            key_sid: k.trim().to_owned(),
            key_secret: Secret::new(s.trim()),
        },
        _ => {
            return Err(IpcError::new(
                "invalid_input",
                "enter the Auth Token, or an API Key SID and its secret",
            ));
        }
    };
    desk.connect(auth).await
}

#[tauri::command]
pub async fn provider_finish_connect(
    desk: DeskState<'_>,
    numbers: Vec<String>,
    responder: bool,
) -> Result<(), IpcError> {
    let desk = desk.get().await?;
    desk.finish_connect(numbers, responder).await
}
