//! What a decode keeps of each frame and message, decided in one place for every use:
//! each output keeps no more than it shows (lengths, hashes and checks still cover every
//! byte; only the copies kept in memory are cut).
//!
//! | use | frame bytes | message bytes | hashes |
//! |---|---|---|---|
//! | [`Purpose::Summary`] | none | none (control messages kept) | no |
//! | [`Purpose::Frames`] | a preview | a preview | no |
//! | [`Purpose::Export`] | none | a preview (the `text` field) | yes |
//! | [`Purpose::LiveOutput`] | a preview | a preview | yes |
//! | [`Purpose::Browse`] | a preview | a preview | no |
//! | [`Purpose::Whole`] | all (to the limits) | all (to the limits) | yes |
//! | [`Purpose::Again`] | all (to the limits) | all (to the limits) | as asked |

use crate::pipeline::session::SessionConfig;

/// What a decode is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// `wsscope summary` on a capture: counts and findings, no payload.
    Summary,
    /// `wsscope frames`: a preview of each frame's bytes and of its message.
    Frames,
    /// `wsscope export`: message hashes and text previews.
    Export,
    /// `summary`, `frames` or `export` on a live capture (`-i`): previews and hashes.
    LiveOutput,
    /// The terminal UI's first pass over a capture it can read again (a file, or a
    /// stream copied as it is read): previews for the lists, no hashes; a connection is
    /// decoded again in full when shown ([`crate::reread`]).
    Browse,
    /// Everything, to the limits: the UI on a capture it cannot read again (the
    /// embedded demo), `explain`, tests.
    Whole,
    /// A connection decoded again for the UI, with message hashes when `hash`.
    Again {
        /// Hash messages (a fifth of the decode's time).
        hash: bool,
    },
}

impl Purpose {
    /// The settings of a decode for this use, from the user's `base` settings.
    pub fn config(self, base: &SessionConfig) -> SessionConfig {
        let mut config = base.clone();
        let limits = &mut config.limits;
        match self {
            Purpose::Summary | Purpose::Frames | Purpose::Export => {
                limits.preview_only = true;
                limits.hash_messages = self == Purpose::Export;
                if self != Purpose::Frames {
                    limits.max_frame_kept = 0;
                }
                if self == Purpose::Summary {
                    limits.keep_message_data = false;
                }
            }
            Purpose::LiveOutput => {
                limits.preview_only = true;
                limits.hash_messages = true;
            }
            Purpose::Browse => {
                limits.preview_only = true;
                limits.hash_messages = false;
            }
            Purpose::Whole => {}
            Purpose::Again { hash } => limits.hash_messages &= hash,
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_output_keeps_what_it_shows() {
        let base = SessionConfig::default();
        let summary = Purpose::Summary.config(&base).limits;
        assert!(summary.preview_only && !summary.hash_messages && !summary.keep_message_data);
        assert_eq!(summary.max_frame_kept, 0);
        let frames = Purpose::Frames.config(&base).limits;
        assert!(frames.preview_only && !frames.hash_messages && frames.keep_message_data);
        assert_eq!(frames.max_frame_kept, base.limits.max_frame_kept);
        let export = Purpose::Export.config(&base).limits;
        assert!(export.hash_messages && export.max_frame_kept == 0);
        assert!(!Purpose::Browse.config(&base).limits.hash_messages);
        assert_eq!(Purpose::Whole.config(&base).limits, base.limits);
        assert!(
            !Purpose::Again { hash: false }
                .config(&base)
                .limits
                .hash_messages
        );
        assert!(
            Purpose::Again { hash: true }
                .config(&base)
                .limits
                .hash_messages
        );
    }
}
