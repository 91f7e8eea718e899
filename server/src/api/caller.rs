//! Who calls the write API: the bearer token, its owner and the client.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use store::tokens::api::ApiToken;
use store::users::User;

use super::ApiError;
use crate::auth::{header_str, AuthState, Client};

/// A caller of the write API, authenticated by `Authorization: Bearer <token>`.
#[derive(Clone, Debug)]
pub struct ApiCaller {
    pub token: ApiToken,
    pub owner: User,
    pub client: Client,
}

impl ApiCaller {
    pub fn actor(&self) -> store::audit::Actor {
        self.token
            .actor(&self.owner, self.client.ip_string().as_deref())
    }
}

impl<S> FromRequestParts<S> for ApiCaller
where
    S: Send + Sync,
    AuthState: FromRef<S>,
    store::Db: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let client = Client::from_parts(parts, &AuthState::from_ref(state));
        let value = header_str(&parts.headers, "authorization")
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(ApiError::Unauthorized)?;
        match store::tokens::api::authenticate(
            &store::Db::from_ref(state),
            value,
            chrono::Utc::now(),
        )
        .await
        {
            Ok(Some((token, owner))) => Ok(ApiCaller {
                token,
                owner,
                client,
            }),
            Ok(None) => Err(ApiError::Unauthorized),
            Err(e) => Err(ApiError::Internal(e.to_string())),
        }
    }
}
