//! plex.tv and Plex Media Server. (Being written: this skeleton only fixes the interface.)

use crate::{
    ClientInfo, GrantOutcome, GrantSpec, Library, MediaError, Permissions, RemoteAccount,
    ServerInfo,
};

/// The plex.tv base URLs; each is configurable (USHER_PLEX_TV_URL, …) so tests use the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlexEndpoints {
    pub plex_tv: String,
    pub clients: String,
    pub app: String,
}

impl Default for PlexEndpoints {
    fn default() -> Self {
        PlexEndpoints {
            plex_tv: "https://plex.tv".into(),
            clients: "https://clients.plex.tv".into(),
            app: "https://app.plex.tv".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlexServerClient {
    _info: ClientInfo,
}

impl PlexServerClient {
    pub fn new(
        _url: &str,
        _token: &str,
        info: ClientInfo,
        _endpoints: PlexEndpoints,
    ) -> Result<Self, MediaError> {
        Ok(Self { _info: info })
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
    pub async fn remove(&self, _remote_id: &str) -> Result<(), MediaError> {
        todo!()
    }
    pub async fn accounts(&self) -> Result<Vec<RemoteAccount>, MediaError> {
        todo!()
    }
}
