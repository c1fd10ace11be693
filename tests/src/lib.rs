//! The end-to-end test harness: real servers on free ports, against a temporary SQLite
//! file or a throwaway PostgreSQL, with Redis, talked to over real HTTP and WebSocket.

pub mod browser;
pub mod cmdb;
pub mod desk;
pub mod fuzz;
pub mod receiver;
pub mod rng;
pub mod server;
pub mod services;
pub mod upload;
pub mod ws;

pub use server::{Backend, Reply, TestServer};

/// Runs one async test scenario once per database backend, as two named tests.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($crate::Backend::Postgres).await
                }
            )*
        }
    };
}
