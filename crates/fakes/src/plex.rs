//! Fake plex.tv and Plex Media Server. (Being written.)
