/*
 * A stand-in bcryptprimitives.dll for wine 8.0 (Debian 12), which lacks ProcessPrng: Rust
 * 1.78+ std imports it for its random numbers, and a test executable without it exits
 * with code 53 before main (rust-lang/rust#121337). This exports ProcessPrng over
 * RtlGenRandom (SystemFunction036 in advapi32), which wine has. For running the tests
 * under wine only; never shipped. Built by scripts/wine/setup.sh with mingw-w64.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
