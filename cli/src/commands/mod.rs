//! The commands. Each parses nothing itself: it gets clap's values, calls the
//! facade and prints.

pub(crate) mod serve;
