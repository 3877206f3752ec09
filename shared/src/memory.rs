//! How the process asks for memory. The jobs hold a few large buffers at a time (a baseline of
//! tens of megabytes, its compressed and JSON forms, chunk files) and free them in turn.
//! glibc's allocator raises its threshold for mapping blocks of their own to the size of the
//! largest one freed, after which buffers of up to 32 MB are carved from the heap, where a freed
//! one is seldom handed back: a 1,000,000-profile refresh then keeps about 40 MB more resident
//! than it uses. [`tune`] fixes the threshold instead, so large buffers go back to the system
//! as soon as they are freed. Called first thing by every binary.

/// Blocks of this size or more get a mapping of their own, returned when freed.
pub const LARGE_BLOCK: usize = 1 << 20;

/// Sets the allocator up as the module doc says. Does nothing where the allocator is not
/// glibc's.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes a setting of the allocator (under the allocator's own lock),
    // with a parameter and value glibc documents; nothing is read or written through a pointer.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE_BLOCK as libc::c_int);
    }
}
