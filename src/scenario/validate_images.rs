//! Validating `[[image]]`: each image's layers, given one by one or as a total size split
//! into equal layers ([`super::validate`] calls [`images`]).

use std::collections::HashMap;

use toml::Value;

use super::model::*;
use super::raw::*;
use super::validate::{element_name, MAX_FILES, MAX_LAYERS};
use crate::error::InputError;
use crate::input::{elem_path, join, Ctx};
use crate::units::{self, format_size as fs};

/// `offers_acceleration`: the provider accelerates images one by one (FC); elsewhere
/// `image.acceleration` is accepted (a scenario compares providers) and has no effect.
pub(super) fn images(raw: &[RawImage], ctx: &Ctx<'_>, offers_acceleration: bool) -> Result<Vec<Image>, InputError> {
    let mut out: Vec<Image> = Vec::with_capacity(raw.len());
    // Layer id → (image name, layer) of its first appearance, to check shared blobs.
    let mut seen: HashMap<String, (String, Layer)> = HashMap::new();
    for (i, r) in raw.iter().enumerate() {
        let name = element_name(&r.name, "image", i, ctx)?;
        let here = elem_path("image", i, Some(&name));
        if out.iter().any(|img| img.name == name) {
            return Err(
                ctx.err(join(&here, "name"), format!("image name \"{name}\" is used twice; names must be unique"))
            );
        }
        let layers = match (&r.layers, &r.size) {
            (Some(_), Some(_)) => {
                return Err(ctx.err(
                    join(&here, "size"),
                    "give either `layers = [...]` or `size` (with `layer_count`), not both",
                ))
            }
            (None, None) => {
                return Err(ctx.err(
                    &here,
                    format!("image {name} needs `layers = [{{ compressed = \"30MB\", uncompressed = \"80MB\" }}, ...]` or `size = \"430MB\"` (compressed total)"),
                ))
            }
            (Some(layers), None) => {
                for key in ["layer_count", "uncompressed_ratio"] {
                    let given = if key == "layer_count" { &r.layer_count } else { &r.uncompressed_ratio };
                    if given.is_some() {
                        return Err(ctx.err(join(&here, key), format!("`{key}` goes with `size`; with `layers` each layer gives its own sizes")));
                    }
                }
                explicit_layers(layers, &name, &here, ctx)?
            }
            (None, Some(size)) => split_layers(r, size, &name, &here, ctx)?,
        };
        let mut ids: HashMap<&str, usize> = HashMap::new();
        for (j, l) in layers.iter().enumerate() {
            let lp = format!("{here}.layers[{j}].id");
            if let Some(k) = ids.insert(&l.id, j) {
                return Err(ctx.err(
                    &lp,
                    format!(
                        "layer id \"{}\" is used by layers {k} and {j} of this image; ids must differ within an image",
                        l.id
                    ),
                ));
            }
            if let Some((other, first)) = seen.get(&l.id) {
                if (first.compressed, first.uncompressed, first.files) != (l.compressed, l.uncompressed, l.files) {
                    return Err(ctx.err(
                        &lp,
                        format!(
                            "layer id \"{}\" is shared with image {other}, where it has compressed {}, uncompressed {}, files {}; here compressed {}, uncompressed {}, files {}. A shared layer is one blob: give it the same sizes, or a different id",
                            l.id, fs(first.compressed), fs(first.uncompressed), first.files, fs(l.compressed), fs(l.uncompressed), l.files
                        ),
                    ));
                }
            } else {
                seen.insert(l.id.clone(), (name.clone(), l.clone()));
            }
        }
        let total = |f: fn(&Layer) -> u64| layers.iter().try_fold(0u64, |acc, l| acc.checked_add(f(l)));
        if total(|l| l.compressed).is_none() || total(|l| l.uncompressed).is_none() {
            return Err(ctx.err(&here, format!("image {name} is too large to add up")));
        }
        let accelerated = ctx.boolean(r.acceleration.as_ref(), &join(&here, "acceleration"))?.unwrap_or(false);
        let from_path = join(&here, "accelerated_from");
        let from = ctx.duration(r.accelerated_from.as_ref(), &from_path)?;
        if from.is_some() && !accelerated {
            return Err(ctx.err(
                &from_path,
                "`accelerated_from` goes with `acceleration = true`: it is when the accelerated copy is ready",
            ));
        }
        let accelerated_from = (accelerated && offers_acceleration).then(|| from.unwrap_or(0));
        out.push(Image { name, layers, accelerated_from });
    }
    Ok(out)
}

fn explicit_layers(raw: &[RawLayer], name: &str, here: &str, ctx: &Ctx<'_>) -> Result<Vec<Layer>, InputError> {
    if raw.is_empty() {
        return Err(ctx.err(join(here, "layers"), "an image needs at least one layer"));
    }
    if raw.len() as i64 > MAX_LAYERS {
        return Err(
            ctx.err(join(here, "layers"), format!("{} layers is more than the {MAX_LAYERS} allowed", raw.len()))
        );
    }
    let mut layers = Vec::with_capacity(raw.len());
    for (j, l) in raw.iter().enumerate() {
        let lp = format!("{here}.layers[{j}]");
        let example = "{ compressed = \"30MB\", uncompressed = \"80MB\" }";
        let compressed = ctx.required(
            ctx.size(l.compressed.as_ref(), &join(&lp, "compressed"))?,
            &join(&lp, "compressed"),
            example,
        )?;
        let uncompressed = ctx.required(
            ctx.size(l.uncompressed.as_ref(), &join(&lp, "uncompressed"))?,
            &join(&lp, "uncompressed"),
            example,
        )?;
        let files = ctx.int(l.files.as_ref(), &join(&lp, "files"), 0, MAX_FILES)?.unwrap_or(0) as u64;
        let id = match &l.id {
            None => format!("{name}#{j}"),
            Some(v) => {
                let s = ctx.string(v, &join(&lp, "id"), "layers with the same id are one shared blob")?;
                if s.is_empty() {
                    return Err(ctx.err(join(&lp, "id"), "a layer id cannot be empty"));
                }
                s.to_string()
            }
        };
        layers.push(Layer { id, compressed, uncompressed, files });
    }
    Ok(layers)
}

fn split_layers(r: &RawImage, size: &Value, name: &str, here: &str, ctx: &Ctx<'_>) -> Result<Vec<Layer>, InputError> {
    let compressed = ctx.size(Some(size), &join(here, "size"))?.unwrap_or(0);
    let n = ctx.int(r.layer_count.as_ref(), &join(here, "layer_count"), 1, MAX_LAYERS)?.unwrap_or(1) as u64;
    let rp = join(here, "uncompressed_ratio");
    let ratio = ctx.positive(r.uncompressed_ratio.as_ref(), &rp)?.unwrap_or(2.5);
    let uncompressed = (compressed as f64 * ratio).round();
    if uncompressed > units::MAX_SIZE as f64 {
        return Err(ctx.err(&rp, format!("{} × {ratio} is too large an image", fs(compressed))));
    }
    let uncompressed = uncompressed as u64;
    let part = |total: u64, j: u64| total / n + if j == 0 { total % n } else { 0 };
    Ok((0..n)
        .map(|j| Layer {
            id: format!("{name}#{j}"),
            compressed: part(compressed, j),
            uncompressed: part(uncompressed, j),
            files: 0,
        })
        .collect())
}
