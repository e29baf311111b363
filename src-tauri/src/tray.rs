//! The tray icon: the unread count, Show, and Quit.
//!
//! NOTE: on Linux the tray is an AppIndicator: it has no tooltip and no click events, only its
//! menu, so the unread count is also a (disabled) menu line and Show is a menu item.

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};

const TRAY_ID: &str = "main";
const SHOW_ID: &str = "show";
const QUIT_ID: &str = "quit";

/// The menu line that shows the unread count; kept so it can be relabelled.
struct UnreadLine(MenuItem<Wry>);

pub(crate) fn install(app: &AppHandle) -> tauri::Result<()> {
    let unread = MenuItem::with_id(app, "unread", unread_label(0), false, None::<&str>)?;
    let show = MenuItem::with_id(app, SHOW_ID, "Show Textback", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, QUIT_ID, "Quit Textback", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&unread, &separator, &show, &quit])?;

    let mut tray = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip(tooltip(0))
        .menu(&menu)
        // A left click shows the window where the platform reports clicks (Windows, macOS).
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            SHOW_ID => crate::reveal_main_window(app),
            QUIT_ID => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                crate::reveal_main_window(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    app.manage(UnreadLine(unread));
    Ok(())
}

pub(crate) fn set_unread(app: &AppHandle, unread: u32) -> tauri::Result<()> {
    if let Some(line) = app.try_state::<UnreadLine>() {
        line.0.set_text(unread_label(unread))?;
    }
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        tray.set_tooltip(Some(tooltip(unread)))?;
    }
    Ok(())
}

fn unread_label(unread: u32) -> String {
    match unread {
        0 => "No unread messages".to_owned(),
        1 => "1 unread message".to_owned(),
        n => format!("{n} unread messages"),
    }
}

fn tooltip(unread: u32) -> String {
    match unread {
        0 => "Textback".to_owned(),
        n => format!("Textback — {}", unread_label(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unread_label_reads_as_a_sentence() {
        assert_eq!(
            unread_label(0),
            "No unread messages",
            "zero is said in words, not as a bare 0"
        );
        assert_eq!(
            unread_label(1),
            "1 unread message",
            "one takes the singular"
        );
        assert_eq!(
            unread_label(12),
            "12 unread messages",
            "more than one takes the plural"
        );
    }

    #[test]
    fn tooltip_is_the_app_name_until_something_is_unread() {
        assert_eq!(tooltip(0), "Textback", "an idle tray says only what it is");
        assert_eq!(
            tooltip(3),
            "Textback — 3 unread messages",
            "the count follows the name"
        );
    }
}
