//! Sequence classification on real data: the 8x8 handwritten digits that
//! scikit-learn ships inside its wheel (1,797 images of 64 pixels, each an
//! intensity 0-16, with their class). `scripts/setup.sh` extracts that one
//! file into the cache as `digits.csv` (64 pixels then the class per row).
//!
//! An image is read row by row as 64 pixel tokens followed by a class token;
//! the only target is at that last position: the digit's class. A fixed 20%
//! of the images (by a seeded shuffle) is held out and scored by accuracy.
//!
//! Tokens: 0-16 are pixel intensities, 17 asks for the class, 18-27 are the
//! classes 0-9.

use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{batch, Batch, EvalSet, TaskData, EVAL_SEED, IGNORE};
use crate::data::{cache_dir, DataError};

const PIXELS: usize = 64;
const LEVELS: i64 = 17;
const CLASSIFY: i64 = LEVELS;
const FIRST_CLASS: i64 = LEVELS + 1;
/// Share of the images held out for testing.
const TEST_SHARE: f64 = 0.2;

/// One image: 64 pixel intensities and its class.
type Image = ([i64; PIXELS], i64);

pub struct Digits {
    train: Vec<Image>,
    test: Vec<Image>,
}

/// Where `scripts/setup.sh` puts the data.
pub fn default_path() -> PathBuf {
    cache_dir().join("data").join("digits.csv")
}

impl Digits {
    /// Reads the digits (default: [`default_path`]) and splits them.
    pub fn load(path: Option<&Path>) -> Result<Self, DataError> {
        let path = path.map_or_else(default_path, Path::to_path_buf);
        let text = std::fs::read_to_string(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                DataError::Missing {
                    what: "digits data",
                    path: path.clone(),
                    hint: " (run scripts/setup.sh: it extracts them from scikit-learn's wheel)"
                        .into(),
                }
            } else {
                DataError::Io {
                    path: path.clone(),
                    error: source,
                }
            }
        })?;
        Self::parse(&text, &path)
    }

    fn parse(text: &str, path: &Path) -> Result<Self, DataError> {
        let bad = |line: usize, why: &str| DataError::Format {
            path: path.to_path_buf(),
            message: format!("line {line}: {why} (expected 64 pixels 0-16, then a class 0-9)"),
        };
        let mut images: Vec<Image> = Vec::new();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let fields: Vec<f64> = line
                .split(',')
                .map(|f| f.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| bad(i + 1, "not a number"))?;
            if fields.len() != PIXELS + 1 {
                return Err(bad(i + 1, &format!("{} fields", fields.len())));
            }
            let mut pixels = [0i64; PIXELS];
            for (p, &v) in pixels.iter_mut().zip(&fields) {
                if !(0.0..=16.0).contains(&v) {
                    return Err(bad(i + 1, &format!("pixel {v}")));
                }
                *p = v.round() as i64;
            }
            let class = fields[PIXELS];
            if !(0.0..=9.0).contains(&class) {
                return Err(bad(i + 1, &format!("class {class}")));
            }
            images.push((pixels, class.round() as i64));
        }
        if images.len() < 10 {
            return Err(bad(images.len(), "too few images"));
        }
        images.shuffle(&mut ChaCha8Rng::seed_from_u64(EVAL_SEED));
        let test_len = ((images.len() as f64) * TEST_SHARE).round() as usize;
        let train = images.split_off(test_len);
        Ok(Digits {
            train,
            test: images,
        })
    }

    pub fn test_len(&self) -> usize {
        self.test.len()
    }

    fn row(image: &Image) -> (Vec<i64>, Vec<i64>) {
        let mut x: Vec<i64> = image.0.to_vec();
        x.push(CLASSIFY);
        let mut y = vec![IGNORE; PIXELS + 1];
        y[PIXELS] = FIRST_CLASS + image.1;
        (x, y)
    }
}

impl TaskData for Digits {
    fn vocab_size(&self) -> usize {
        (FIRST_CLASS + 10) as usize
    }

    fn seq_len(&self) -> usize {
        PIXELS + 1
    }

    fn train_batch(&self, rng: &mut ChaCha8Rng, b: usize) -> Batch {
        let rows = (0..b)
            .map(|_| Self::row(&self.train[rng.random_range(0..self.train.len())]))
            .collect();
        batch(rows)
    }

    /// The whole test split, in batches of `b` (`n` is not used: every test
    /// image is scored).
    fn eval_sets(&self, b: usize, _n: usize) -> Vec<EvalSet> {
        let batches = self
            .test
            .chunks(b.max(1))
            .map(|chunk| batch(chunk.iter().map(Self::row).collect()))
            .collect();
        vec![EvalSet {
            name: String::new(),
            batches,
        }]
    }

    fn scores_accuracy(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_split_and_ask_for_the_class_at_the_end() {
        let line = |c: usize| {
            let mut fields: Vec<String> = (0..64).map(|p| ((p + c) % 17).to_string()).collect();
            fields.push(c.to_string());
            fields.join(",")
        };
        let text: Vec<String> = (0..50).map(|i| line(i % 10)).collect();
        let d = Digits::parse(&text.join("\n"), Path::new("mem")).unwrap();
        assert_eq!((d.train.len(), d.test.len()), (40, 10));
        let (x, y) = Digits::row(&d.test[0]);
        assert_eq!(x.len(), 65);
        assert_eq!(x[64], CLASSIFY);
        assert!(y[..64].iter().all(|&t| t == IGNORE));
        assert_eq!(y[64], FIRST_CLASS + d.test[0].1);
        let sets = d.eval_sets(4, 1);
        assert_eq!(sets[0].batches.len(), 3);
        assert!(Digits::parse("1,2,3", Path::new("mem")).is_err());
    }
}
