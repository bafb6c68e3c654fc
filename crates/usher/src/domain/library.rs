//! What a library holds, in words people use. Each server reports its own spelling (Plex
//! `show`, Jellyfin `tvshows`, Kavita `manga`, …); pages show one family name for all of them.

/// The family of a library's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibraryKind {
    Movies,
    Shows,
    Music,
    MusicVideos,
    Photos,
    HomeVideos,
    Books,
    Audiobooks,
    Podcasts,
    Comics,
    Manga,
    Games,
    Collections,
    LiveTv,
    Playlists,
    Mixed,
}

impl LibraryKind {
    /// The family of a kind as a server reports it; anything unknown is mixed content.
    pub fn from_reported(kind: &str) -> LibraryKind {
        match kind.trim().to_ascii_lowercase().as_str() {
            "movie" | "movies" => LibraryKind::Movies,
            "show" | "shows" | "tvshows" | "series" => LibraryKind::Shows,
            "artist" | "music" => LibraryKind::Music,
            "musicvideos" => LibraryKind::MusicVideos,
            "photo" | "photos" | "images" => LibraryKind::Photos,
            "homevideos" => LibraryKind::HomeVideos,
            "book" | "books" | "lightnovel" => LibraryKind::Books,
            "audiobook" | "audiobooks" => LibraryKind::Audiobooks,
            "podcast" | "podcasts" => LibraryKind::Podcasts,
            "comic" | "comics" => LibraryKind::Comics,
            "manga" => LibraryKind::Manga,
            "game" | "games" | "platform" => LibraryKind::Games,
            "boxsets" | "collections" => LibraryKind::Collections,
            "livetv" => LibraryKind::LiveTv,
            "playlists" => LibraryKind::Playlists,
            _ => LibraryKind::Mixed,
        }
    }

    /// The end of its translation key (`lib-kind-NAME`).
    pub fn as_str(self) -> &'static str {
        match self {
            LibraryKind::Movies => "movies",
            LibraryKind::Shows => "shows",
            LibraryKind::Music => "music",
            LibraryKind::MusicVideos => "music-videos",
            LibraryKind::Photos => "photos",
            LibraryKind::HomeVideos => "home-videos",
            LibraryKind::Books => "books",
            LibraryKind::Audiobooks => "audiobooks",
            LibraryKind::Podcasts => "podcasts",
            LibraryKind::Comics => "comics",
            LibraryKind::Manga => "manga",
            LibraryKind::Games => "games",
            LibraryKind::Collections => "collections",
            LibraryKind::LiveTv => "live-tv",
            LibraryKind::Playlists => "playlists",
            LibraryKind::Mixed => "mixed",
        }
    }

    pub const ALL: [LibraryKind; 16] = [
        LibraryKind::Movies,
        LibraryKind::Shows,
        LibraryKind::Music,
        LibraryKind::MusicVideos,
        LibraryKind::Photos,
        LibraryKind::HomeVideos,
        LibraryKind::Books,
        LibraryKind::Audiobooks,
        LibraryKind::Podcasts,
        LibraryKind::Comics,
        LibraryKind::Manga,
        LibraryKind::Games,
        LibraryKind::Collections,
        LibraryKind::LiveTv,
        LibraryKind::Playlists,
        LibraryKind::Mixed,
    ];
}

#[cfg(test)]
mod tests {
    use super::LibraryKind;

    #[test]
    fn each_servers_spelling_finds_its_family() {
        for (reported, kind) in [
            ("movie", LibraryKind::Movies),
            ("tvshows", LibraryKind::Shows),
            ("show", LibraryKind::Shows),
            ("artist", LibraryKind::Music),
            ("book", LibraryKind::Books),
            ("manga", LibraryKind::Manga),
            ("games", LibraryKind::Games),
            ("CollectionFolder", LibraryKind::Mixed),
        ] {
            assert_eq!(LibraryKind::from_reported(reported), kind, "{reported}");
        }
    }
}
