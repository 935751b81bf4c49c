//! The deep-sky catalogue: OpenNGC (Mattia Verga, CC-BY-SA-4.0), embedded in the binary so that naming works on a
//! Raspberry Pi with nothing else installed.
//!
//! `models/data/openngc.tsv` is made from the `pyongc` wheel by `dso_training.catalog.make_catalog` (the training
//! code, `models/training`; see the README beside the file for the attribution). It is parsed once, on first use
//! (about 12 600 objects, a few ms).

use std::collections::HashMap;
use std::sync::OnceLock;

/// The embedded catalogue text.
const OPENNGC: &str = include_str!("../../data/openngc.tsv");

/// One catalogue object.
#[derive(Clone, Debug, PartialEq)]
pub struct CatalogObject {
    /// OpenNGC's identifier as written there (`NGC4736`, `IC0434`, `B033`).
    pub id: String,
    /// OpenNGC's type code (`G`, `PN`, `GCl`, …).
    pub kind: String,
    /// J2000 right ascension, degrees.
    pub ra: f64,
    /// J2000 declination, degrees.
    pub dec: f64,
    /// Major axis, arcminutes, when known.
    pub major: Option<f64>,
    /// Minor axis, arcminutes, when known.
    pub minor: Option<f64>,
    /// Position angle of the major axis, degrees east of north, when known.
    pub pa: Option<f64>,
    /// Visual (else blue) magnitude, when known.
    pub mag: Option<f64>,
    /// Messier number.
    pub messier: Option<u16>,
    /// Common names, the best known first.
    pub common: Vec<String>,
}

impl CatalogObject {
    /// The identifier people write: `NGC 4736`, `IC 434`, `B 33`, `Mel 22`, `ESO 056-115`.
    pub fn catalog_id(&self) -> String {
        let split = self.id.find(|c: char| c.is_ascii_digit()).unwrap_or(self.id.len());
        let (prefix, rest) = self.id.split_at(split);
        if prefix.is_empty() || rest.is_empty() {
            return self.id.clone();
        }
        // Strip the zero padding of plain numbers (NGC0224 → NGC 224), keep compound ones (ESO056-115).
        let rest = match rest.find(|c: char| !c.is_ascii_digit()) {
            None => rest.trim_start_matches('0'),
            Some(end) if !matches!(prefix, "ESO" | "PGC" | "UGC" | "MWSC") => {
                let (num, tail) = rest.split_at(end);
                let sep = if tail.starts_with(' ') { " " } else { "" };
                return format!("{prefix} {}{sep}{}", num.trim_start_matches('0'), tail.trim());
            }
            Some(_) => rest,
        };
        format!("{prefix} {rest}")
    }

    /// The name to show first: `M 94` for Messier objects, else [`Self::catalog_id`].
    pub fn display_name(&self) -> String {
        match self.messier {
            Some(m) => format!("M {m}"),
            None => self.catalog_id(),
        }
    }

    /// What the object is, in words (`galaxy`, `planetary nebula`, `globular cluster`, …).
    pub fn type_name(&self) -> &'static str {
        match self.kind.as_str() {
            "G" => "galaxy",
            "GPair" => "galaxy pair",
            "GTrpl" => "galaxy triplet",
            "GGroup" => "galaxy group",
            "PN" => "planetary nebula",
            "HII" => "HII region",
            "Neb" => "nebula",
            "EmN" => "emission nebula",
            "RfN" => "reflection nebula",
            "DrkN" => "dark nebula",
            "SNR" => "supernova remnant",
            "Cl+N" => "cluster with nebula",
            "OCl" => "open cluster",
            "GCl" => "globular cluster",
            "*Ass" => "stellar association",
            "*" => "star",
            "**" => "double star",
            _ => "other",
        }
    }

    /// The detector class this object belongs to (`galaxy`, `nebula`, `cluster`), as YOLO and the naive detector
    /// label boxes; `None` for stars and unclassified objects.
    pub fn class(&self) -> Option<&'static str> {
        match self.kind.as_str() {
            "G" | "GPair" | "GTrpl" | "GGroup" => Some("galaxy"),
            "PN" | "HII" | "Neb" | "EmN" | "RfN" | "DrkN" | "SNR" | "Cl+N" => Some("nebula"),
            "OCl" | "GCl" | "*Ass" => Some("cluster"),
            _ => None,
        }
    }

    /// Whether the object is darker than its surroundings (a dark nebula): its evidence is a deficit of light.
    pub fn is_dark(&self) -> bool {
        self.kind == "DrkN"
    }

    /// Whether `query` names this object: `M 94`, `m94`, `NGC 4736`, `ngc4736`, `NGC 224`, or a common name
    /// (case and spaces ignored).
    pub fn answers_to(&self, query: &str) -> bool {
        let q = squash(query);
        !q.is_empty() && self.names().contains(&q)
    }

    /// The names the object answers to, squashed: its id, its catalogue id, its common names and, for a Messier
    /// object, `m94` and `messier94`. One list for [`CatalogObject::answers_to`] and the catalogue's name index.
    fn names(&self) -> Vec<String> {
        let mut names = vec![squash(&self.id), squash(&self.catalog_id())];
        names.extend(self.common.iter().map(|c| squash(c)));
        if let Some(m) = self.messier {
            names.extend([format!("m{m}"), format!("messier{m}")]);
        }
        names.retain(|n| !n.is_empty());
        names
    }
}

/// Lowercase without spaces, dashes, apostrophes and leading zeros of numbers: `NGC 0224` → `ngc224`.
fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_digit = false;
    for c in s.chars().filter(|c| !c.is_whitespace() && !matches!(c, '\'' | '-' | '_')) {
        let c = c.to_ascii_lowercase();
        if c == '0' && !prev_digit {
            continue;
        }
        prev_digit = c.is_ascii_digit();
        out.push(c);
    }
    out
}

/// The whole catalogue.
#[derive(Debug)]
pub struct Catalog {
    objects: Vec<CatalogObject>,
    /// Every name an object answers to ([`CatalogObject::answers_to`], squashed) → its objects, in catalogue
    /// order: a lookup is one hash probe instead of squashing 13 000 objects' names (the `device_messages` fuzz
    /// target spent most of its time there, one lookup per `DSO_TARGET` change).
    names: HashMap<String, Vec<usize>>,
}

impl Catalog {
    /// The embedded OpenNGC, parsed on first use.
    pub fn openngc() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| Catalog::parse(OPENNGC).expect("the embedded catalogue is well formed (tested)"))
    }

    /// Parses catalogue text in `make_catalog.py`'s format.
    pub fn parse(text: &str) -> Result<Catalog, String> {
        let mut lines = text.lines().filter(|l| !l.starts_with('#'));
        let header = lines.next().ok_or("empty catalogue")?;
        if !header.starts_with("name\ttype\tra_deg\tdec_deg") {
            return Err(format!("unexpected catalogue header '{header}'"));
        }
        let mut objects = Vec::with_capacity(13_000);
        for (n, line) in lines.enumerate() {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() != 10 {
                return Err(format!("catalogue line {}: {} fields, 10 expected", n + 2, f.len()));
            }
            let num = |i: usize| -> Result<Option<f64>, String> {
                if f[i].is_empty() {
                    return Ok(None);
                }
                f[i].parse().map(Some).map_err(|_| format!("catalogue line {}: '{}' is not a number", n + 2, f[i]))
            };
            objects.push(CatalogObject {
                id: f[0].to_owned(),
                kind: f[1].to_owned(),
                ra: num(2)?.ok_or_else(|| format!("catalogue line {}: no RA", n + 2))?,
                dec: num(3)?.ok_or_else(|| format!("catalogue line {}: no Dec", n + 2))?,
                major: num(4)?,
                minor: num(5)?,
                pa: num(6)?,
                mag: num(7)?,
                messier: num(8)?.map(|m| m as u16),
                common: f[9].split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            });
        }
        let mut names: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            for key in o.names() {
                let list = names.entry(key).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        Ok(Catalog { objects, names })
    }

    /// Every object.
    pub fn objects(&self) -> &[CatalogObject] {
        &self.objects
    }

    /// Objects within `radius` degrees of (`ra`, `dec`), or overlapping that circle with their major axis.
    pub fn near(&self, ra: f64, dec: f64, radius: f64) -> impl Iterator<Item = &CatalogObject> {
        let (sin_d, cos_d) = dec.to_radians().sin_cos();
        self.objects.iter().filter(move |o| {
            // Cheap Dec band test first: 12 600 objects per frame stays well under a millisecond.
            let reach = radius + o.major.unwrap_or(0.0) / 120.0;
            if (o.dec - dec).abs() > reach {
                return false;
            }
            let (s, c) = o.dec.to_radians().sin_cos();
            let cos_sep = sin_d * s + cos_d * c * (o.ra - ra).to_radians().cos();
            cos_sep >= reach.to_radians().cos()
        })
    }

    /// The object a person means by `query` (`M 94`, `NGC 7023`, `Iris Nebula`), Messier and NGC first.
    pub fn lookup(&self, query: &str) -> Option<&CatalogObject> {
        let found = self.names.get(&squash(query))?.iter().map(|&i| &self.objects[i]);
        found.min_by_key(|o| (o.messier.is_none(), o.id.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogue_parses_and_holds_the_famous_objects() {
        let cat = Catalog::openngc();
        assert!(cat.objects().len() > 12_000, "{}", cat.objects().len());
        let m94 = cat.lookup("M 94").unwrap();
        assert_eq!(
            (m94.id.as_str(), m94.catalog_id(), m94.display_name()),
            ("NGC4736", "NGC 4736".into(), "M 94".into())
        );
        assert_eq!(m94.class(), Some("galaxy"));
        let iris = cat.lookup("iris nebula").unwrap();
        assert_eq!(iris.catalog_id(), "NGC 7023");
        assert_eq!(iris.class(), Some("nebula"));
        let horse = cat.lookup("Horsehead Nebula").unwrap();
        assert_eq!((horse.catalog_id().as_str(), horse.is_dark()), ("B 33", true));
        assert_eq!(cat.lookup("M13").unwrap().type_name(), "globular cluster");
        assert_eq!(cat.lookup("ngc 0224").unwrap().display_name(), "M 31");
        assert_eq!(cat.lookup("IC 434").unwrap().id, "IC0434");
        assert!(cat.lookup("NGC 99999").is_none());
        assert!(cat.lookup("").is_none());
    }

    /// The name index answers as the scan it replaced did: the Messier object, else the shortest id, among every
    /// object that answers to the query.
    #[test]
    fn lookup_by_index_agrees_with_answers_to() {
        let cat = Catalog::openngc();
        let scan = |q: &str| {
            cat.objects().iter().filter(|o| o.answers_to(q)).min_by_key(|o| (o.messier.is_none(), o.id.len()))
        };
        for o in cat.objects().iter().step_by(211) {
            for q in [o.id.clone(), o.catalog_id(), o.display_name()].iter().chain(&o.common) {
                assert_eq!(cat.lookup(q).map(|f| &f.id), scan(q).map(|f| &f.id), "{q}");
            }
        }
        for q in ["m 31", "Messier 42", "ngc0224", "  ", "-", "Pleiades", "nothing at all"] {
            assert_eq!(cat.lookup(q).map(|f| &f.id), scan(q).map(|f| &f.id), "{q}");
        }
    }

    #[test]
    fn compound_ids_keep_their_shape() {
        let o = |id: &str| CatalogObject {
            id: id.into(),
            kind: "G".into(),
            ra: 0.0,
            dec: 0.0,
            major: None,
            minor: None,
            pa: None,
            mag: None,
            messier: None,
            common: vec![],
        };
        assert_eq!(o("ESO056-115").catalog_id(), "ESO 056-115");
        assert_eq!(o("NGC5194").catalog_id(), "NGC 5194");
        assert_eq!(o("IC0080 NED01").catalog_id(), "IC 80 NED01");
        assert_eq!(o("IC0186A").catalog_id(), "IC 186A");
        assert_eq!(o("Mel022").catalog_id(), "Mel 22");
    }

    #[test]
    fn near_finds_objects_in_a_cone() {
        let cat = Catalog::openngc();
        let ids: Vec<&str> = cat.near(188.17, 8.14, 0.5).map(|o| o.id.as_str()).collect();
        assert!(ids.contains(&"NGC4535") && ids.contains(&"NGC4492"), "{ids:?}");
        assert!(!ids.contains(&"NGC4736"));
        // M 31's 3° disc reaches a point 1.2° from its centre with a 0.1° radius.
        assert!(cat.near(10.68, 42.47, 0.1).any(|o| o.id == "NGC0224"));
    }

    #[test]
    fn malformed_catalogue_text_is_an_error() {
        assert!(Catalog::parse("").is_err());
        assert!(Catalog::parse("name\ttype\tra_deg\tdec_deg\tmaj\nNGC1\tG\t1\n").is_err());
        let bad = "name\ttype\tra_deg\tdec_deg\tmaj_arcmin\tmin_arcmin\tpa_deg\tmag\tmessier\tcommon\nX\tG\tx\t1\t\t\t\t\t\t\n";
        assert!(Catalog::parse(bad).unwrap_err().contains("not a number"));
    }
}
