/*
 * bcryptprimitives.dll for Wine 8 (Debian 12), which lacks it: Go's
 * Windows runtime (1.24 and later) takes its random numbers from
 * ProcessPrng there and will not start without it. This stand-in answers
 * from BCryptGenRandom, the system's generator, which Wine has. It goes only
 * into the private Wine prefix tools/wine-test.sh makes; real Windows
 * (8 and later) has its own.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
