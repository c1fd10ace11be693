//! Address blocks (`10.0.0.0/8`), as settings name them: a leaf that the configuration
//! parses into and the webhook guard checks against.

use std::net::IpAddr;

/// An address block, `10.0.0.0/8` or a single address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    base: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `address` or `address/prefix`.
    pub fn parse(text: &str) -> Result<Network, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let base: IpAddr = address
            .parse()
            .map_err(|_| format!("'{text}' is not an address or a network like 10.0.0.0/8"))?;
        let longest = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => longest,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= longest)
                .ok_or_else(|| format!("'{text}' has a prefix longer than {longest} bits"))?,
        };
        Ok(Network { base, prefix })
    }

    /// Parses a comma-separated list; empty entries are skipped.
    pub fn parse_list(text: &str) -> Result<Vec<Network>, String> {
        text.split(',')
            .filter(|t| !t.trim().is_empty())
            .map(Network::parse)
            .collect()
    }

    /// Whether `ip` is in the block (an IPv4 block holds no IPv6 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, ip) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => same_prefix(
                u32::from(base).into(),
                u32::from(ip).into(),
                self.prefix,
                32,
            ),
            (IpAddr::V6(base), IpAddr::V6(ip)) => {
                same_prefix(u128::from(base), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn same_prefix(a: u128, b: u128, prefix: u8, bits: u32) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = bits - u32::from(prefix);
    (a >> shift) == (b >> shift)
}
