//! The configuration hooks (libindi's `saveConfigItems` and `loadConfig`): the saved properties (those the table
//! marks saved, in its order), and `CONFIG_PROCESS`.

use std::time::Instant;

use crate::config;
use crate::indi::{DefElements, NewVector, OneSwitch, SwitchState};
use crate::props;

use super::elements::config_process::{DEFAULT, LOAD, PURGE, SAVE};
use super::table::Prop;
use super::{Device, Level};

impl Device {
    /// The properties saved in the configuration file, as the `newXXXVector`s that restore them.
    pub(super) fn config_items(&self) -> Vec<NewVector> {
        Prop::saved_ones()
            .map(|p| {
                let v = self.props.get(p);
                let set = props::set_of(v, None);
                NewVector { device: self.name.clone(), name: v.name.clone(), timestamp: None, values: set.values }
            })
            .collect()
    }

    /// Writes the configuration file (and, the first time, the `.default` file with the factory values).
    pub fn save_config(&mut self) -> Result<(), String> {
        config::save(&self.config_path, &self.config_items(), &self.defaults)
    }

    /// Applies the saved values of some properties, as if a client had sent them. Missing file: nothing to do.
    pub(super) fn load_config_items(&mut self, which: &[Prop], report_missing: bool) {
        match config::load(&self.config_path) {
            Ok(items) => self.apply_items(items, which),
            Err(config::LoadError::Missing) if !report_missing => {}
            Err(e) => self.log(Level::Warning, &format!("configuration {}: {e}", self.config_path.display())),
        }
    }

    /// Applies the items of the properties in `which`, in the order they come.
    pub(super) fn apply_items(&mut self, items: Vec<NewVector>, which: &[Prop]) {
        for mut item in items {
            // Detection properties exist only while connected; the connect hook applies them then.
            let undefined = !self.is_connected() && self.is_detection_property(&item.name);
            if !Prop::by_name(&item.name).is_some_and(|p| which.contains(&p)) || undefined {
                continue;
            }
            item.device = self.name.clone();
            self.new_vector(item, Instant::now());
        }
    }

    pub(super) fn config_process(&mut self, s: &[OneSwitch]) -> Result<(), String> {
        let action = s.iter().find(|o| o.state == SwitchState::On).map(|o| o.name.as_str());
        let all: Vec<Prop> = Prop::saved_ones().collect();
        let result = match action {
            Some(a) if a == SAVE.name => {
                self.save_config().map(|_| format!("configuration saved to {}", self.config_path.display()))
            }
            Some(a) if a == LOAD.name => config::load(&self.config_path).map_err(|e| e.to_string()).map(|items| {
                self.apply_items(items, &all);
                "configuration loaded".to_owned()
            }),
            Some(a) if a == DEFAULT.name => {
                let defaults = self.defaults.clone();
                self.apply_items(defaults, &all);
                Ok("default configuration restored".to_owned())
            }
            Some(a) if a == PURGE.name => config::purge(&self.config_path).map(|_| "configuration purged".to_owned()),
            Some(other) => Err(format!("unknown configuration action {}", crate::indi::shorten(other))),
            None => return Ok(()),
        };
        // CONFIG_PROCESS is a set of buttons: nothing stays on.
        if let DefElements::Switch(_, els) = &mut self.props.get_mut(Prop::ConfigProcess).elements {
            els.iter_mut().for_each(|e| e.state = SwitchState::Off);
        }
        let text = result?;
        self.ok(Prop::ConfigProcess, None);
        self.log(Level::Info, &text);
        Ok(())
    }
}
