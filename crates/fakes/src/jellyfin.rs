//! Fake Jellyfin and Emby. (Being written.)
