//! Which frames the frame list shows: by direction, by opcode class, only frames that
//! broke a rule, only frames matching the search.

use std::collections::HashSet;

use crate::model::{Connection, Dir, FrameRecord};

use super::matching;

/// Frames of data (text, binary, continuation) or of control (close, ping, pong).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpcodeClass {
    /// Opcodes 0x0-0x7.
    Data,
    /// Opcodes 0x8-0xF.
    Control,
}

/// The frame filter. The default shows every frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only frames sent by this side.
    pub dir: Option<Dir>,
    /// Only data or only control frames.
    pub class: Option<OpcodeClass>,
    /// Only frames with a violation.
    pub violations_only: bool,
    /// Only frames matching the confirmed search.
    pub matching: bool,
}

/// A choice in the filter menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterChoice {
    /// Client → server frames only.
    Client,
    /// Server → client frames only.
    Server,
    /// Both directions.
    BothDirections,
    /// Data frames only.
    Data,
    /// Control frames only.
    Control,
    /// Every opcode.
    AllOpcodes,
    /// Toggle: only frames with a violation.
    ViolationsOnly,
    /// Toggle: only frames matching the search.
    MatchingSearch,
    /// Show everything.
    Clear,
}

impl FilterChoice {
    /// The menu: key, choice, label.
    pub const MENU: [(char, FilterChoice, &'static str); 9] = [
        ('c', FilterChoice::Client, "client → server only"),
        ('s', FilterChoice::Server, "server → client only"),
        ('b', FilterChoice::BothDirections, "both directions"),
        (
            'd',
            FilterChoice::Data,
            "data frames (text, binary, continuation)",
        ),
        (
            'o',
            FilterChoice::Control,
            "control frames (close, ping, pong)",
        ),
        ('a', FilterChoice::AllOpcodes, "all opcodes"),
        (
            'v',
            FilterChoice::ViolationsOnly,
            "toggle: frames with violations only",
        ),
        (
            't',
            FilterChoice::MatchingSearch,
            "toggle: frames matching the search",
        ),
        ('x', FilterChoice::Clear, "clear all filters"),
    ];
}

impl Filter {
    /// Applies a menu choice.
    pub fn apply(&mut self, choice: FilterChoice) {
        match choice {
            FilterChoice::Client => self.dir = Some(Dir::Client),
            FilterChoice::Server => self.dir = Some(Dir::Server),
            FilterChoice::BothDirections => self.dir = None,
            FilterChoice::Data => self.class = Some(OpcodeClass::Data),
            FilterChoice::Control => self.class = Some(OpcodeClass::Control),
            FilterChoice::AllOpcodes => self.class = None,
            FilterChoice::ViolationsOnly => self.violations_only = !self.violations_only,
            FilterChoice::MatchingSearch => self.matching = !self.matching,
            FilterChoice::Clear => *self = Filter::default(),
        }
    }

    /// Every frame passes.
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// The filter in a few words, for the status line (`None` when empty).
    pub fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        match self.dir {
            Some(Dir::Client) => parts.push("client→server"),
            Some(Dir::Server) => parts.push("server→client"),
            None => {}
        }
        match self.class {
            Some(OpcodeClass::Data) => parts.push("data"),
            Some(OpcodeClass::Control) => parts.push("control"),
            None => {}
        }
        if self.violations_only {
            parts.push("violations");
        }
        if self.matching {
            parts.push("matching search");
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// A filter ready to test the frames of one connection.
pub struct FrameTest<'a> {
    filter: &'a Filter,
    violating: HashSet<u32>,
    needle: Option<&'a str>,
}

impl<'a> FrameTest<'a> {
    /// Prepares `filter` for `conn`; `needle` is the lower-cased confirmed search.
    pub fn new(filter: &'a Filter, conn: &Connection, needle: Option<&'a str>) -> Self {
        let violating = if filter.violations_only {
            conn.violations.iter().filter_map(|v| v.frame).collect()
        } else {
            HashSet::new()
        };
        FrameTest {
            filter,
            violating,
            needle,
        }
    }

    /// The frame passes the filter.
    pub fn accepts(&self, conn: &Connection, f: &FrameRecord) -> bool {
        let class_ok = match self.filter.class {
            Some(OpcodeClass::Data) => !f.header.opcode.is_control(),
            Some(OpcodeClass::Control) => f.header.opcode.is_control(),
            None => true,
        };
        self.filter.dir.is_none_or(|d| d == f.dir)
            && class_ok
            && (!self.filter.violations_only || self.violating.contains(&f.index))
            && (!self.filter.matching
                || self
                    .needle
                    .is_none_or(|n| matching::frame_matches(conn, f, n)))
    }
}
