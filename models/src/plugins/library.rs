//! Opening one plugin library and checking its table, in the order that keeps a wrong library harmless.
//!
//! The order matters: after `dlopen` (which already runs the library's constructors: unavoidable, and why only
//! trusted places are searched), the entry symbol is looked up and called, then the ABI version is read, and only
//! if it is ours is any other field of the table touched. A table from another version may have a different
//! layout, so reading further would be reading garbage.

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dso_plugin_api::abi::{
    DsoCreateFn, DsoDestroyFn, DsoDetectFn, DsoDetectorVTable, DsoEntryFn, DsoFreeResultFn, DsoLastErrorFn,
    DsoStaticStringFn, DSO_PLUGIN_ABI_VERSION, DSO_PLUGIN_ENTRY,
};
use libloading::Library;

use super::error::{LoadProblem, PluginError};

/// The functions of a checked table (none null).
#[derive(Clone, Copy, Debug)]
pub struct Functions {
    pub(crate) create: DsoCreateFn,
    pub(crate) detect: DsoDetectFn,
    pub(crate) free_result: DsoFreeResultFn,
    pub(crate) destroy: DsoDestroyFn,
    pub(crate) last_error: DsoLastErrorFn,
}

/// A loaded, checked plugin. The library stays loaded as long as any `Arc<Plugin>` (entry or detector) lives.
#[derive(Debug)]
pub struct Plugin {
    /// The library file.
    pub path: PathBuf,
    /// The detector's name, as the plugin declares it.
    pub name: String,
    /// The plugin's version.
    pub version: String,
    /// One line on what it does.
    pub description: String,
    pub(crate) functions: Functions,
    /// Last field, so it is dropped last: the functions above point into it.
    pub(crate) _library: Arc<Library>,
}

/// A file name for messages (`libfoo.so`).
pub fn file_name(path: &Path) -> String {
    path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// Whether a plugin's detector name is acceptable: it becomes an INDI element name and a command-line word.
pub fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Calls a static-string function of the table, guarded; the string must be UTF-8.
fn static_string(f: Option<DsoStaticStringFn>, what: &'static str) -> Result<String, LoadProblem> {
    let f = f.ok_or(LoadProblem::MissingFunction(what))?;
    // SAFETY: a function of a table whose version was checked: it takes nothing and returns a static string.
    let ptr = catch_unwind(|| unsafe { f() }).map_err(|_| LoadProblem::Panicked(what.into()))?;
    if ptr.is_null() {
        return Err(LoadProblem::ReturnedNull(what.into()));
    }
    // SAFETY: non-null; the ABI says it is a NUL-terminated static string.
    let text = unsafe { CStr::from_ptr(ptr as *const c_char) };
    text.to_str().map(str::to_owned).map_err(|_| LoadProblem::NotUtf8(what.into()))
}

/// Opens a library and checks its table; the error names the file.
pub fn load(path: &Path) -> Result<Plugin, PluginError> {
    let file = file_name(path);
    let fail = |problem: LoadProblem| PluginError::library(&file, problem);
    // SAFETY: loading runs the library's initialisers. That is the trust decision plugins are about: only places
    // chosen by the person starting the program are searched (see `discover`).
    let library = unsafe { Library::new(path) }.map_err(|e| fail(LoadProblem::NotALibrary(e.to_string())))?;
    let entry_name = std::str::from_utf8(&DSO_PLUGIN_ENTRY[..DSO_PLUGIN_ENTRY.len() - 1]).unwrap_or_default();
    // SAFETY: the symbol is declared by the ABI as `const DsoDetectorVTable *(void)`.
    let entry: DsoEntryFn = *unsafe { library.get::<DsoEntryFn>(DSO_PLUGIN_ENTRY) }
        .map_err(|_| fail(LoadProblem::NoEntry(entry_name.into())))?;
    // SAFETY: calling the entry point as the ABI declares it; a Rust panic cannot cross an `extern "C"` function
    // (it aborts), so `catch_unwind` here only guards the host's own side.
    let table = catch_unwind(AssertUnwindSafe(|| unsafe { entry() }))
        .map_err(|_| fail(LoadProblem::Panicked(entry_name.into())))?;
    if table.is_null() {
        return Err(fail(LoadProblem::ReturnedNull(entry_name.into())));
    }
    // SAFETY: every version of the table starts with `abi_version: u32, struct_size: u32`; read those alone.
    let (version, size) =
        unsafe { (table.cast::<u32>().read_unaligned(), table.cast::<u32>().add(1).read_unaligned()) };
    if version != DSO_PLUGIN_ABI_VERSION {
        return Err(fail(LoadProblem::AbiVersion(version)));
    }
    let needed = std::mem::size_of::<DsoDetectorVTable>();
    if (size as usize) < needed {
        return Err(fail(LoadProblem::TableTooSmall { size, needed }));
    }
    // SAFETY: version 1 and at least as large as our definition: the first `needed` bytes are a v1 table.
    let t: DsoDetectorVTable = unsafe { table.read_unaligned() };
    let name = static_string(t.name, "name").map_err(fail)?;
    if !valid_name(&name) {
        return Err(fail(LoadProblem::InvalidName(name)));
    }
    let version = static_string(t.version, "version").map_err(fail)?;
    let description = static_string(t.description, "description").map_err(fail)?;
    let missing = |what: &'static str| fail(LoadProblem::MissingFunction(what));
    let functions = Functions {
        create: t.create.ok_or_else(|| missing("create"))?,
        detect: t.detect.ok_or_else(|| missing("detect"))?,
        free_result: t.free_result.ok_or_else(|| missing("free_result"))?,
        destroy: t.destroy.ok_or_else(|| missing("destroy"))?,
        last_error: t.last_error.ok_or_else(|| missing("last_error"))?,
    };
    Ok(Plugin { path: path.to_owned(), name, version, description, functions, _library: Arc::new(library) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_element_names() {
        assert!(valid_name("brightest") && valid_name("c-blob_2"));
        assert!(!valid_name("") && !valid_name("Caps") && !valid_name("a b") && !valid_name(&"x".repeat(33)));
    }

    #[test]
    fn a_text_file_is_not_a_library() {
        let dir = std::env::temp_dir().join(format!("dso-lib-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("libnotalib.so");
        std::fs::write(&path, "this is not an ELF file\n").unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.starts_with("libnotalib.so: cannot be loaded as a library"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
