//! glibc allocator controls for long-lived, mostly idle processes (the per-container shim):
//! giving the memory freed after start-up back to the kernel so it stops counting in the
//! process's resident set. (Added for the shim-memory work, issue 5.)

/// Returns free heap memory to the kernel (`malloc_trim(0)`: trims the top of the heap and
/// `MADV_DONTNEED`s free pages inside it). Returns true when some memory was released.
pub fn trim_heap() -> bool {
    // SAFETY: malloc_trim only walks the allocator's own free lists under its locks; it takes
    // no pointers from us and is safe to call at any time from any thread.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Caps the number of malloc arenas (`mallopt(M_ARENA_MAX, n)`); a single-threaded process
/// needs one. Returns false when glibc refused the setting.
pub fn limit_arenas(n: i32) -> bool {
    // SAFETY: mallopt only changes allocator tunables; M_ARENA_MAX takes any positive int.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, n) == 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_and_arena_limits_are_accepted() {
        let v: Vec<Vec<u8>> = (0..64).map(|_| vec![1u8; 64 * 1024]).collect();
        drop(v);
        let _ = trim_heap();
        assert!(limit_arenas(1));
    }
}
