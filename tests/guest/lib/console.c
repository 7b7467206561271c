/*
 * Console output for tiny guests: bytes to CONSOLE_PORT and a printf that
 * knows %s %c %d %i %u %x %p and %% with l/ll/z modifiers, a field width
 * and '0' padding. No floating point: guests are built -mgeneral-regs-only.
 */
#include "guest.h"

void putchar(int c)
{
	outb(CONSOLE_PORT, (uint8_t)c);
}

void puts(const char *s)
{
	while (*s)
		putchar(*s++);
}

static void print_number(uint64_t v, unsigned int base, bool negative, int width, char pad)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (negative)
		buf[n++] = '-';
	while (width-- > n)
		putchar(pad);
	while (n)
		putchar(buf[--n]);
}

int vprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int width = 0, longs = 0;
		char pad = ' ';

		if (*fmt != '%') {
			putchar(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			puts(s ? s : "(null)");
			break;
		}
		case 'c':
			putchar(va_arg(ap, int));
			break;
		case 'd':
		case 'i': {
			int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);

			print_number(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, width, pad);
			break;
		}
		case 'u':
			print_number(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int),
				     10, false, width, pad);
			break;
		case 'x':
			print_number(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int),
				     16, false, width, pad);
			break;
		case 'p':
			puts("0x");
			print_number((uintptr_t)va_arg(ap, void *), 16, false, width, pad);
			break;
		case '%':
			putchar('%');
			break;
		case '\0':
			return 0;
		default:
			/* Unknown conversion: show it rather than guess at the argument. */
			putchar('%');
			putchar(*fmt);
			break;
		}
	}
	return 0;
}

int printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	return 0;
}
