//! No server-side request forgery: a webhook URL is a request the desk makes on a
//! stranger's behalf, so by default it may not reach the desk's own network: loopback,
//! private, link-local (where cloud metadata lives), shared, multicast and reserved
//! addresses are refused. The check runs at delivery time on every address the name
//! resolves to, and the request connects only to addresses that passed, so a name that
//! resolves to a public address when registered and a private one later (DNS rebinding)
//! is refused too. Operators open internal networks with `SWITCHBOARD_WEBHOOK_ALLOW`.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
};

pub use crate::network::Network;

/// What kind of internal address `ip` is, if it is one.
pub fn internal_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => internal_v4(ip),
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return internal_v4(v4);
            }
            let segments = ip.segments();
            if ip.is_loopback() {
                Some("loopback")
            } else if ip.is_unspecified() {
                Some("unspecified")
            } else if segments[0] & 0xfe00 == 0xfc00 {
                Some("private (unique local)")
            } else if segments[0] & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if ip.is_multicast() {
                Some("multicast")
            } else if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                // NAT64: the IPv4 address it stands for decides.
                let v4 = Ipv4Addr::from(u128::from(ip) as u32);
                internal_v4(v4)
            } else {
                None
            }
        }
    }
}

fn internal_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local (cloud metadata lives here)")
    } else if a == 0 {
        Some("unspecified")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared (carrier-grade NAT)")
    } else if ip.is_multicast() || ip.is_broadcast() || a >= 240 {
        Some("multicast or reserved")
    } else if (a == 198 && (18..20).contains(&b)) || (a == 192 && b == 0 && ip.octets()[2] == 0) {
        Some("reserved")
    } else {
        None
    }
}

/// The rule with this desk's allow-list.
#[derive(Clone, Debug, Default)]
pub struct Guard {
    allow: Arc<Vec<Network>>,
}

impl Guard {
    /// The guard with the networks an operator opened (`SWITCHBOARD_WEBHOOK_ALLOW`).
    pub fn new(allow: Vec<Network>) -> Guard {
        Guard {
            allow: Arc::new(allow),
        }
    }

    /// Whether a request may go to `ip`; the refusal says why.
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        match internal_kind(ip) {
            Some(kind) if !self.allow.iter().any(|n| n.contains(ip)) => Err(format!(
                "refused: {ip} is a {kind} address; webhooks go to public addresses unless SWITCHBOARD_WEBHOOK_ALLOW lists it"
            )),
            _ => Ok(()),
        }
    }
}

/// The resolver the webhook client connects through: the system's, keeping only the
/// addresses the guard allows.
impl reqwest::dns::Resolve for Guard {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refusal = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| match guard.check(addr.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        refusal.get_or_insert(why);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refusal.unwrap_or_else(|| format!("{host} has no address"));
                return Err(why.into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_unless_allowed() {
        let guard = Guard::default();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(guard.check(ip.parse().unwrap()).is_err(), "{ip} passed");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(guard.check(ip.parse().unwrap()).is_ok(), "{ip} refused");
        }
        let allowed = Guard::new(Network::parse_list("127.0.0.0/8, 10.9.9.9").unwrap());
        assert!(allowed.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(allowed.check("10.9.9.9".parse().unwrap()).is_ok());
        assert!(allowed.check("10.9.9.8".parse().unwrap()).is_err());
        assert!(Network::parse("10.0.0.0/33").is_err());
        assert!(Network::parse("example.com").is_err());
    }
}
