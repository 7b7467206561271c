/*
 * From the 64-bit entry to main(): IDT, PIC masked, the multiboot command
 * line split into argv, and the settings module. Also the APs' C entry,
 * which smp.c drives, and the few string helpers kernels share.
 */
#include "kernel.h"

int kargc;
char *kargv[MAX_ARGS + 1];
static char cmdline_copy[1024];

const struct mb_info *mb_info(void)
{
	if (mb_magic != MULTIBOOT_LOADER_MAGIC)
		return NULL;
	return (const struct mb_info *)(uintptr_t)mb_info_addr;
}

const char *mb_cmdline(void)
{
	const struct mb_info *mbi = mb_info();

	if (!mbi || !(mbi->flags & MBI_CMDLINE) || !mbi->cmdline)
		return "";
	return (const char *)(uintptr_t)mbi->cmdline;
}

/* Words separated by spaces, like the kvm-unit-tests argv (no quoting). */
static void split_cmdline(void)
{
	const char *s = mb_cmdline();
	size_t n = strlen(s);
	char *p = cmdline_copy;

	if (n >= sizeof(cmdline_copy))
		n = sizeof(cmdline_copy) - 1;
	memcpy(cmdline_copy, s, n);
	cmdline_copy[n] = '\0';
	while (*p && kargc < MAX_ARGS) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		kargv[kargc++] = p;
		while (*p && *p != ' ')
			p++;
	}
	kargv[kargc] = NULL;
}

const char *setting(const char *key)
{
	static char value[128];
	const struct mb_info *mbi = mb_info();
	const struct mb_module *mod;
	const char *p, *end;
	size_t klen = strlen(key);

	if (!mbi || !(mbi->flags & MBI_MODS) || mbi->mods_count == 0)
		return NULL;
	mod = (const struct mb_module *)(uintptr_t)mbi->mods_addr;
	p = (const char *)(uintptr_t)mod->mod_start;
	end = (const char *)(uintptr_t)mod->mod_end;
	while (p < end) {
		const char *eol = p;

		while (eol < end && *eol != '\n')
			eol++;
		if ((size_t)(eol - p) > klen && !memcmp(p, key, klen) && p[klen] == '=') {
			size_t vlen = (size_t)(eol - p) - klen - 1;

			if (vlen >= sizeof(value))
				vlen = sizeof(value) - 1;
			memcpy(value, p + klen + 1, vlen);
			/* Tolerate files written with CRLF line ends. */
			if (vlen && value[vlen - 1] == '\r')
				vlen--;
			value[vlen] = '\0';
			return value;
		}
		p = eol + 1;
	}
	return NULL;
}

bool setting_u64(const char *key, uint64_t *out)
{
	const char *v = setting(key);

	return v && parse_u64(v, out);
}

bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned int)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned int)(*s - 'A' + 10);
		else
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			break;
	}
	return 0;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, (size_t)-1);
}

bool str_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !memcmp(s + n - m, suffix, m);
}

void kernel_start(void);

void kernel_start(void)
{
	idt_load();
	pic_mask_all();
	split_cmdline();
	exit(main(kargc, kargv));
}
