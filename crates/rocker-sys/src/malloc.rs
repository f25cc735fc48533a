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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_heap_is_returned() {
        let v: Vec<Vec<u8>> = (0..64).map(|_| vec![1u8; 64 * 1024]).collect();
        drop(v);
        // 4 MiB of freed heap chunks (each below the mmap threshold) are there to give back.
        assert!(trim_heap());
    }
}
