//! Jellyfin and Emby. (Being written: this skeleton only fixes the interface.)

use crate::{
    ClientInfo, GrantOutcome, GrantSpec, Library, MediaError, Permissions, RemoteAccount,
    ServerInfo, ServerKind,
};

#[derive(Debug, Clone)]
pub struct JellyfinClient {
    kind: ServerKind,
    _info: ClientInfo,
}

impl JellyfinClient {
    pub fn new(
        kind: ServerKind,
        _url: &str,
        _api_key: &str,
        info: ClientInfo,
    ) -> Result<Self, MediaError> {
        Ok(Self { kind, _info: info })
    }
    pub fn kind(&self) -> ServerKind {
        self.kind
    }
    pub async fn probe(&self) -> Result<ServerInfo, MediaError> {
        todo!()
    }
    pub async fn libraries(&self) -> Result<Vec<Library>, MediaError> {
        todo!()
    }
    pub async fn grant(&self, _spec: &GrantSpec) -> Result<GrantOutcome, MediaError> {
        todo!()
    }
    pub async fn update_access(
        &self,
        _remote_id: &str,
        _libraries: &[String],
        _p: &Permissions,
    ) -> Result<(), MediaError> {
        todo!()
    }
    pub async fn set_disabled(&self, _remote_id: &str, _disabled: bool) -> Result<(), MediaError> {
        todo!()
    }
    pub async fn remove(&self, _remote_id: &str) -> Result<(), MediaError> {
        todo!()
    }
    pub async fn accounts(&self) -> Result<Vec<RemoteAccount>, MediaError> {
        todo!()
    }
}
