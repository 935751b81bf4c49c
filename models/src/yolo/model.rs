//! The YOLO model file: opened through [`crate::onnx`], its input and output checked, its class names read.
//!
//! A YOLO export carries its class names in ultralytics' `names` metadata, or in a sidecar file beside it; without
//! either, a one-class model's class is "dso" and the others are numbered.

use std::path::{Path, PathBuf};

use ort::value::TensorRef;

use super::decode::Layout;
use crate::onnx::{self, Dim, OnnxError};

/// Class names from ultralytics' `names` metadata, a Python dict literal: `{0: 'galaxy', 1: 'nebula'}`.
pub fn parse_names_metadata(text: &str) -> Option<Vec<String>> {
    let body = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut entries: Vec<(usize, String)> = Vec::new();
    let mut rest = body.trim_start();
    while !rest.is_empty() {
        let colon = rest.find(':')?;
        let index: usize = rest[..colon].trim().parse().ok()?;
        rest = rest[colon + 1..].trim_start();
        let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let end = rest[1..].find(quote)? + 1;
        entries.push((index, rest[1..end].to_owned()));
        rest = rest[end + 1..].trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    entries.sort_by_key(|e| e.0);
    let ok = entries.iter().enumerate().all(|(i, e)| e.0 == i);
    (ok && !entries.is_empty()).then(|| entries.into_iter().map(|e| e.1).collect())
}

/// Class names from a sidecar file: one per line, blank lines and `#` comments ignored.
pub fn parse_names_file(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect()
}

/// The sidecar files looked at for a model without `names` metadata: `model.names`, then `model.onnx.names`.
pub fn sidecar_paths(model: &Path) -> [PathBuf; 2] {
    let mut long = model.as_os_str().to_owned();
    long.push(".names");
    [model.with_extension("names"), PathBuf::from(long)]
}

/// A loaded, validated YOLO model.
#[derive(Debug)]
pub struct Model {
    model: onnx::Model,
    input_name: String,
    /// Square input side in pixels.
    pub size: usize,
    /// Output layout.
    pub layout: Layout,
    /// Class names, one per class.
    pub names: Vec<String>,
}

impl Model {
    /// Loads a model with `threads` intra-op threads (0: ONNX Runtime's choice) and checks that it is a YOLO
    /// detector this code can drive; the error names the file and what is wrong.
    pub fn load(path: &Path, threads: usize) -> Result<Model, OnnxError> {
        let model = onnx::Model::open(path, threads, "YOLO model")?;
        let [input] = model.inputs() else {
            return Err(model.error(format!("expected one input (the image), found {}", model.inputs().len())));
        };
        let image = [Dim::One, Dim::Is(3), Dim::Fixed("S"), Dim::Fixed("S")];
        let size = input
            .expect_f32("input", &image)
            .map_err(|e| model.error(format!("{e} (an image, fixed square size: export with a fixed imgsz)")))?[2]
            as usize;
        let input_name = input.name.clone();
        let Some(output) = model.outputs().first() else { return Err(model.error("the model has no output")) };
        if output.dtype != Some(ort::value::TensorElementType::Float32) {
            return Err(model.error(format!("output '{}' is not a float32 tensor", output.name)));
        }
        let mut out_shape = output.shape.clone();
        if out_shape.first().is_some_and(|b| *b < 0) {
            out_shape[0] = 1;
        }

        let meta_names = model.metadata("names").and_then(|t| parse_names_metadata(&t));
        let names = match meta_names {
            Some(n) => Some(n),
            None => sidecar_paths(path)
                .iter()
                .find_map(|p| std::fs::read_to_string(p).ok())
                .map(|t| parse_names_file(&t))
                .filter(|n| !n.is_empty()),
        };
        let layout = Layout::from_shape(&out_shape, names.as_ref().map(Vec::len)).map_err(|e| model.error(e))?;
        let names = names.unwrap_or_else(|| match layout.classes() {
            1 => vec!["dso".to_owned()],
            n => (0..n).map(|i| format!("class{i}")).collect(),
        });
        Ok(Model { model, input_name, size, layout, names })
    }

    /// Runs the model on one `3 × size × size` input and returns the raw output, row-major.
    pub fn run(&mut self, input: &[f32]) -> Result<Vec<f32>, String> {
        let s = self.size;
        let view = ndarray::ArrayView4::from_shape((1, 3, s, s), input).map_err(|e| e.to_string())?;
        let tensor = TensorRef::from_array_view(view).map_err(|e| e.to_string())?;
        let outputs = self
            .model
            .session()
            .run(ort::inputs![self.input_name.as_str() => tensor])
            .map_err(|e| format!("inference: {e}"))?;
        let out = outputs[0].try_extract_array::<f32>().map_err(|e| format!("model output: {e}"))?;
        Ok(out.iter().copied().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_ultralytics_metadata() {
        assert_eq!(
            parse_names_metadata("{0: 'galaxy', 1: 'nebula', 2: 'cluster'}"),
            Some(vec!["galaxy".into(), "nebula".into(), "cluster".into()])
        );
        assert_eq!(parse_names_metadata("{1: \"b, c\", 0: 'a'}"), Some(vec!["a".into(), "b, c".into()]));
        assert_eq!(parse_names_metadata("{0: 'a', 2: 'c'}"), None);
        assert_eq!(parse_names_metadata("galaxy"), None);
        assert_eq!(parse_names_metadata("{}"), None);
    }

    #[test]
    fn names_from_sidecar() {
        assert_eq!(parse_names_file("# classes\ngalaxy\n\n nebula \n"), vec!["galaxy", "nebula"]);
        let [a, b] = sidecar_paths(Path::new("/m/x.onnx"));
        assert_eq!((a, b), (PathBuf::from("/m/x.names"), PathBuf::from("/m/x.onnx.names")));
    }
}
