//! Everything the UI reacts to arrives on one channel, the [`Inbox`]: terminal input
//! (read on a thread of its own, [`read_terminal`]), the decode thread's word that the
//! capture grew, and the results of decode jobs ([`super::jobs`]). When nothing comes
//! for a tick, the UI wakes up all the same (to show reading progress).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossterm::event::{self as ct, KeyEvent, MouseButton, MouseEvent, MouseEventKind};

use super::command::{Command, Mode, key_to_command};
use super::jobs::{Done, JobId, Reply};

/// Something that happened.
#[derive(Debug)]
pub enum Event {
    /// A key was pressed.
    Key(KeyEvent),
    /// The mouse did something.
    Mouse(MouseEvent),
    /// The terminal was resized.
    Resize(u16, u16),
    /// Nothing happened for a tick.
    Tick,
    /// The capture being read grew (or its reading ended).
    Decoded,
    /// A decode job finished.
    Job(Done),
    /// Reading the terminal failed: the UI ends.
    Failed(io::ErrorKind, String),
}

impl Event {
    /// A key, a mouse action or a resize: something the user did.
    pub fn is_input(&self) -> bool {
        matches!(self, Event::Key(_) | Event::Mouse(_) | Event::Resize(..))
    }
}

/// The UI's one channel, with the events put aside while the UI waited for one job.
#[derive(Debug)]
pub struct Inbox {
    tx: Sender<Event>,
    rx: Receiver<Event>,
    /// Events taken off the channel while waiting for a job's result, in order (the
    /// UI waits for a job through a shared borrow of its state, as search does).
    backlog: RefCell<VecDeque<Event>>,
}

impl Default for Inbox {
    fn default() -> Self {
        let (tx, rx) = channel();
        Inbox {
            tx,
            rx,
            backlog: RefCell::new(VecDeque::new()),
        }
    }
}

impl Inbox {
    /// A sender for the channel (the terminal reader, the decode thread).
    pub fn sender(&self) -> Sender<Event> {
        self.tx.clone()
    }

    /// Where decode jobs put their results: on the channel.
    pub fn reply(&self) -> Reply {
        let tx = self.tx.clone();
        Arc::new(move |done| {
            let _ = tx.send(Event::Job(done));
        })
    }

    /// The next event, waiting up to `timeout` for one ([`Event::Tick`] when none came).
    pub fn next(&self, timeout: Duration) -> Event {
        if let Some(ev) = self.backlog.borrow_mut().pop_front() {
            return ev;
        }
        match self.rx.recv_timeout(timeout) {
            Ok(ev) => ev,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => Event::Tick,
        }
    }

    /// The next event if one is waiting.
    pub fn try_next(&self) -> Option<Event> {
        let waiting = self.backlog.borrow_mut().pop_front();
        waiting.or_else(|| self.rx.try_recv().ok())
    }

    /// A job's result that is waiting, if any (other events stay for later, in order).
    pub fn try_job(&self) -> Option<Done> {
        let mut backlog = self.backlog.borrow_mut();
        if let Some(at) = backlog.iter().position(|e| matches!(e, Event::Job(_)))
            && let Some(Event::Job(done)) = backlog.remove(at)
        {
            return Some(done);
        }
        loop {
            match self.rx.try_recv() {
                Ok(Event::Job(done)) => return Some(done),
                Ok(other) => backlog.push_back(other),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return None,
            }
        }
    }

    /// Waits until `deadline` for the result of job `id`; every other event that comes
    /// meanwhile stays for later, in order.
    pub fn wait_for(&self, id: JobId, deadline: Instant) -> Option<Done> {
        let mut backlog = self.backlog.borrow_mut();
        if let Some(at) = backlog
            .iter()
            .position(|e| matches!(e, Event::Job(d) if d.id() == id))
            && let Some(Event::Job(done)) = backlog.remove(at)
        {
            return Some(done);
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(Event::Job(done)) if done.id() == id => return Some(done),
                Ok(other) => backlog.push_back(other),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }
}

/// Reads the terminal on a thread of its own, sending what it reads to `tx`, until
/// `stop` is set (looked at every tick) or the channel is gone.
pub fn read_terminal(tx: Sender<Event>, stop: Arc<AtomicBool>) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("wsscope-input".into())
        .stack_size(256 << 10)
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let ev = match ct::poll(super::TICK) {
                    Ok(false) => continue,
                    Ok(true) => match ct::read() {
                        Ok(ct::Event::Key(k)) => Event::Key(k),
                        Ok(ct::Event::Mouse(m)) => Event::Mouse(m),
                        Ok(ct::Event::Resize(w, h)) => Event::Resize(w, h),
                        Ok(_) => continue,
                        Err(e) => Event::Failed(e.kind(), e.to_string()),
                    },
                    Err(e) => Event::Failed(e.kind(), e.to_string()),
                };
                let failed = matches!(ev, Event::Failed(..));
                if tx.send(ev).is_err() || failed {
                    return;
                }
            }
        })
}

/// The command an event stands for in `mode`.
pub fn to_command(ev: &Event, mode: &Mode) -> Option<Command> {
    match *ev {
        Event::Key(k) => key_to_command(k, mode),
        Event::Mouse(m) if *mode == Mode::Normal => mouse_to_command(m),
        Event::Resize(width, height) => Some(Command::Resize { width, height }),
        _ => None,
    }
}

/// The command a mouse event stands for: left click selects, the wheel scrolls.
pub fn mouse_to_command(ev: MouseEvent) -> Option<Command> {
    let (x, y) = (ev.column, ev.row);
    match ev.kind {
        MouseEventKind::Down(MouseButton::Left) => Some(Command::Click { x, y }),
        MouseEventKind::ScrollDown => Some(Command::Scroll { x, y, down: true }),
        MouseEventKind::ScrollUp => Some(Command::Scroll { x, y, down: false }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    #[test]
    fn mouse() {
        let ev = |kind| MouseEvent {
            kind,
            column: 3,
            row: 7,
            modifiers: KeyModifiers::NONE,
        };
        assert_eq!(
            mouse_to_command(ev(MouseEventKind::Down(MouseButton::Left))),
            Some(Command::Click { x: 3, y: 7 })
        );
        assert_eq!(
            mouse_to_command(ev(MouseEventKind::ScrollDown)),
            Some(Command::Scroll {
                x: 3,
                y: 7,
                down: true
            })
        );
        assert_eq!(mouse_to_command(ev(MouseEventKind::Moved)), None);
    }
}
