//! The simulated Internet: site names by Zipf-like popularity, their stable
//! addresses, and the shared CDN pool whose addresses rotate per query.

use std::net::Ipv4Addr;

/// Public-looking first octets for simulated destinations (never an internal range).
const PUBLIC_OCTETS: [u8; 10] = [13, 20, 23, 34, 52, 54, 104, 142, 151, 157];
/// Popular sites, ranked.
const POPULAR_SITES: usize = 3000;
/// Addresses in the shared CDN pool.
const CDN_POOL: u32 = 400;

/// The simulated Internet: names, their addresses, and popularity.
pub struct Internet {
    sites: Vec<String>,
    cdf: Vec<f64>,
}

fn hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// A stable public address for `(name, k)`.
pub fn stable_ip(name: &str, k: u64) -> Ipv4Addr {
    let h = hash(name).wrapping_add(k.wrapping_mul(0x9E37_79B9));
    let first = PUBLIC_OCTETS[(h % PUBLIC_OCTETS.len() as u64) as usize];
    Ipv4Addr::new(
        first,
        (h >> 8) as u8,
        (h >> 16) as u8,
        1 + ((h >> 24) % 250) as u8,
    )
}

impl Internet {
    pub fn new(seed: u64) -> Internet {
        let tlds = ["com", "net", "org", "io", "co.uk", "de"];
        let sites: Vec<String> = (0..POPULAR_SITES)
            .map(|rank| {
                format!(
                    "site{rank}-{:x}.{}",
                    hash(&format!("{seed}/{rank}")) & 0xfff,
                    tlds[rank % tlds.len()]
                )
            })
            .collect();
        // Zipf-like: weight 1/rank^1.1.
        let weights: Vec<f64> = (1..=POPULAR_SITES)
            .map(|r| 1.0 / (r as f64).powf(1.1))
            .collect();
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let cdf = weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        Internet { sites, cdf }
    }

    pub fn popular_site(&self, rng: &mut fastrand::Rng) -> &str {
        let u = rng.f64();
        let i = self
            .cdf
            .partition_point(|c| *c < u)
            .min(self.sites.len() - 1);
        &self.sites[i]
    }

    /// DNS answers for a name: CDN-served names (one in five sites) get two
    /// addresses from the shared pool, different per query, behind a CNAME;
    /// others one to three stable addresses.
    pub fn answers(&self, name: &str, rng: &mut fastrand::Rng) -> (Vec<Ipv4Addr>, Option<String>) {
        let h = hash(name);
        if h % 5 == 0 {
            let cname = format!("d{:x}.cloudfront.net", h & 0xffff_ffff);
            let pick =
                |rng: &mut fastrand::Rng| stable_ip("cdn-pool", u64::from(rng.u32(0..CDN_POOL)));
            (vec![pick(rng), pick(rng)], Some(cname))
        } else {
            ((0..1 + h % 3).map(|k| stable_ip(name, k)).collect(), None)
        }
    }
}
