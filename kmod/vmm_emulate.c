// SPDX-License-Identifier: GPL-2.0
/*
 * Instruction emulation shared by the backends: fetch and decode the
 * instruction at CS:RIP (vmm_decode.c), step over it, turn port I/O
 * (string forms included) and MMIO accesses into KVM_EXIT_IO and
 * KVM_EXIT_MMIO, and complete them when userspace calls KVM_RUN again.
 * The backend says what exited (a struct vmm_io, a guest-physical address);
 * everything from there on is the same for SVM and VMX.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/mm.h>
#include <asm/processor-flags.h>
#include <asm/msr-index.h>

#include "vmm.h"
#include "vmm_irqchip.h"

/* Guest code size in bytes: 2, 4 or 8. */
unsigned int vmm_code_size(const struct vmm_cpu_mode *m)
{
	if ((m->efer & EFER_LMA) && m->cs_l)
		return 8;
	if (!(m->cr0 & X86_CR0_PE))
		return 2;
	return m->cs_db ? 4 : 2;
}
EXPORT_SYMBOL_GPL(vmm_code_size);

static u64 rip_mask(const struct vmm_cpu_mode *m)
{
	return vmm_code_size(m) == 8 ? ~0ULL : 0xffffffffULL;
}

int vmm_emulation_failed(struct vmm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	u64 info[3];

	vcpu->vm->ops->get_exit_info(vcpu, info);
	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run->internal.ndata = 4;
	run->internal.data[0] = info[0];
	run->internal.data[1] = info[1];
	run->internal.data[2] = info[2];
	run->internal.data[3] = vcpu->rip;
	return VMM_EXIT_USER;
}
EXPORT_SYMBOL_GPL(vmm_emulation_failed);

/* Fetch and decode the instruction at CS:RIP. */
int vmm_fetch_decode(struct vmm_vcpu *vcpu, const struct vmm_cpu_mode *m,
		     struct vmm_insn *insn)
{
	unsigned int mode = vmm_code_size(m), got = 0;
	u8 bytes[VMM_INSN_MAX_LEN];
	u64 lin = mode == 8 ? vcpu->rip :
		  (u32)(m->seg_base[VMM_SEG_CS] + vcpu->rip);

	while (got < sizeof(bytes)) {
		u64 gva = lin + got, gpa;
		unsigned int n = min_t(unsigned int, sizeof(bytes) - got,
				       PAGE_SIZE - offset_in_page(gva));

		if (mode != 8)
			gva &= 0xffffffff;
		if (vmm_gva_to_gpa(vcpu, m, gva, &gpa) ||
		    vmm_read_guest(vcpu->vm, gpa, bytes + got, n))
			break;
		got += n;
	}
	if (!got)
		return -EFAULT;
	return vmm_decode(bytes, got, mode, insn) ? -EINVAL : 0;
}
EXPORT_SYMBOL_GPL(vmm_fetch_decode);

/* The instruction is done: RIP moves on, STI / MOV SS blocking ends. */
void vmm_retire_insn(struct vmm_vcpu *vcpu, u64 next_rip)
{
	vcpu->rip = next_rip;
	vcpu->vm->ops->clear_int_shadow(vcpu);
}
EXPORT_SYMBOL_GPL(vmm_retire_insn);

/* Step over the instruction at RIP, its length from the decoder. */
int vmm_skip_insn(struct vmm_vcpu *vcpu)
{
	struct vmm_cpu_mode m;
	struct vmm_insn insn;

	vcpu->vm->ops->get_cpu_mode(vcpu, &m);
	if (vmm_fetch_decode(vcpu, &m, &insn))
		return vmm_emulation_failed(vcpu);
	vmm_retire_insn(vcpu, (vcpu->rip + insn.len) & rip_mask(&m));
	return VMM_EXIT_CONTINUE;
}
EXPORT_SYMBOL_GPL(vmm_skip_insn);

/* Write @val of @size bytes to a register with x86 merge rules. */
static void write_reg(struct vmm_vcpu *vcpu, unsigned int reg, bool high8,
		      unsigned int size, u64 val)
{
	unsigned long old = vcpu->gprs[reg];

	switch (size) {
	case 1:
		if (high8)
			val = (old & ~0xff00UL) | (val & 0xff) << 8;
		else
			val = (old & ~0xffUL) | (val & 0xff);
		break;
	case 2:
		val = (old & ~0xffffUL) | (val & 0xffff);
		break;
	case 4:
		val &= 0xffffffff;	/* 32-bit writes zero-extend */
		break;
	}
	vcpu->gprs[reg] = val;
}

/* ---- Port I/O ---- */

static u64 addr_mask(unsigned int addr_size)
{
	if (addr_size == 8)
		return ~0ULL;
	return addr_size == 4 ? 0xffffffffULL : 0xffffULL;
}

/* Replace the low address-size bits of a register (A32 zero-extends). */
static void set_addr_reg(struct vmm_vcpu *vcpu, unsigned int reg,
			 unsigned int addr_size, u64 val)
{
	if (addr_size == 8)
		vcpu->gprs[reg] = val;
	else if (addr_size == 4)
		vcpu->gprs[reg] = val & 0xffffffff;
	else
		write_reg(vcpu, reg, false, 2, val);
}

/* Linear address of the string operand: DS(or override):rSI / ES:rDI. */
static u64 string_addr(struct vmm_vcpu *vcpu, const struct vmm_cpu_mode *m,
		       const struct vmm_io *io)
{
	unsigned int seg = io->in ? VMM_SEG_ES : io->seg;
	u64 off = vcpu->gprs[io->in ? VMM_RDI : VMM_RSI] &
		  addr_mask(io->addr_size);

	if (seg > VMM_SEG_GS)
		seg = VMM_SEG_DS;
	if (vmm_code_size(m) == 8)
		return off + (seg >= VMM_SEG_FS ? m->seg_base[seg] : 0);
	return (u32)(m->seg_base[seg] + off);
}

/*
 * Account for @count elements done by INS/OUTS: step rSI/rDI, count rCX
 * down, and leave RIP on the instruction while a REP has more to do.
 */
static void string_done(struct vmm_vcpu *vcpu, const struct vmm_io *io,
			u32 count)
{
	unsigned int reg = io->in ? VMM_RDI : VMM_RSI;
	u64 mask = addr_mask(io->addr_size);
	int size = vcpu->rflags & X86_EFLAGS_DF ? -io->size : io->size;
	u64 step = (u64)((s64)count * size), rcx;

	set_addr_reg(vcpu, reg, io->addr_size, vcpu->gprs[reg] + step);
	if (io->rep) {
		rcx = (vcpu->gprs[VMM_RCX] & mask) - count;
		set_addr_reg(vcpu, VMM_RCX, io->addr_size, rcx);
		if (rcx & mask)
			return;
	}
	vmm_retire_insn(vcpu, io->next_rip);
}

static void io_exit(struct vmm_vcpu *vcpu, const struct vmm_io *io, u32 count)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = io->in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.port = io->port;
	run->io.size = io->size;
	run->io.count = count;
	run->io.data_offset = VMM_PIO_PAGE_OFFSET * PAGE_SIZE;
}

static int string_io(struct vmm_vcpu *vcpu, struct vmm_io *io)
{
	struct vmm_cpu_mode m;
	struct vmm_insn insn;
	u32 count = 1;
	u64 lin;

	/*
	 * Address size and segment come from the instruction itself: not
	 * every SVM implementation fills those EXITINFO1 fields (QEMU leaves
	 * them zero), and VMX reports them only with an optional feature.
	 */
	vcpu->vm->ops->get_cpu_mode(vcpu, &m);
	if (vmm_fetch_decode(vcpu, &m, &insn) || insn.map ||
	    (insn.opcode & 0xfc) != 0x6c)
		return vmm_emulation_failed(vcpu);
	io->addr_size = insn.addr_size;
	io->seg = insn.seg == VMM_SEG_DEFAULT ? VMM_SEG_DS : insn.seg;
	lin = string_addr(vcpu, &m, io);

	if (io->rep) {
		u64 mask = addr_mask(io->addr_size);
		u64 rcx = vcpu->gprs[VMM_RCX] & mask;

		if (!rcx) {
			vmm_retire_insn(vcpu, io->next_rip);
			return VMM_EXIT_CONTINUE;
		}
		/* Backwards strings (DF=1) go one element per exit. */
		if (!(vcpu->rflags & X86_EFLAGS_DF)) {
			u64 off = vcpu->gprs[io->in ? VMM_RDI : VMM_RSI] & mask;

			count = min_t(u64, rcx, PAGE_SIZE / io->size);
			/* Stop where rSI/rDI would wrap (16/32-bit). */
			if (mask != ~0ULL)
				count = clamp_t(u64, (mask - off + 1) / io->size,
						1, count);
		}
	}
	io_exit(vcpu, io, count);
	if (io->in) {
		memset(page_address(vcpu->pio_page), 0, count * io->size);
		vcpu->pending = VMM_PENDING_PIO_INS;
		vcpu->pending_count = count;
		vcpu->pending_io = *io;
		return VMM_EXIT_USER;
	}
	if (vmm_copy_linear(vcpu, &m, lin, page_address(vcpu->pio_page),
			    count * io->size, false))
		return vmm_emulation_failed(vcpu);
	string_done(vcpu, io, count);
	return VMM_EXIT_USER;
}

/* An IN or OUT, INS or OUTS: KVM_EXIT_IO with the data in the PIO page. */
int vmm_emulate_io(struct vmm_vcpu *vcpu, struct vmm_io *io)
{
	void *data = page_address(vcpu->pio_page);

	if (io->string)
		return string_io(vcpu, io);

	/* The PICs, the PIT, ioeventfds: done without leaving the kernel. */
	if (io->in) {
		u32 val = 0;

		if (!vmm_io_bus_read(vcpu, VMM_PIO_BUS, io->port, io->size,
				     &val)) {
			write_reg(vcpu, VMM_RAX, false, io->size, val);
			vmm_retire_insn(vcpu, io->next_rip);
			vmm_stat_inc(VMM_STAT_IO_IN_KERNEL);
			return VMM_EXIT_CONTINUE;
		}
	} else {
		u64 val = vcpu->gprs[VMM_RAX];

		if (!vmm_io_bus_write(vcpu, VMM_PIO_BUS, io->port, io->size,
				      &val)) {
			vmm_retire_insn(vcpu, io->next_rip);
			vmm_stat_inc(VMM_STAT_IO_IN_KERNEL);
			return VMM_EXIT_CONTINUE;
		}
	}

	io_exit(vcpu, io, 1);
	if (io->in) {
		memset(data, 0, io->size);
		vcpu->pending = VMM_PENDING_PIO_IN;
		vcpu->pending_rip = io->next_rip;
		vcpu->pending_size = io->size;
	} else {
		u64 val = vcpu->gprs[VMM_RAX];

		memcpy(data, &val, io->size);
		vmm_retire_insn(vcpu, io->next_rip);
	}
	return VMM_EXIT_USER;
}
EXPORT_SYMBOL_GPL(vmm_emulate_io);

/* ---- MMIO ---- */

/* An in-kernel device (LAPIC, IOAPIC, ioeventfd) takes it: 0. */
static int mmio_in_kernel(struct vmm_vcpu *vcpu, u64 gpa, unsigned int len,
			  void *data, bool write)
{
	int ret;

	if (vmm_lapic_mmio_hit(vcpu, gpa))
		ret = write ? vmm_lapic_mmio_write(vcpu, gpa, len, data) :
			      vmm_lapic_mmio_read(vcpu, gpa, len, data);
	else if (write)
		ret = vmm_io_bus_write(vcpu, VMM_MMIO_BUS, gpa, len, data);
	else
		ret = vmm_io_bus_read(vcpu, VMM_MMIO_BUS, gpa, len, data);
	if (!ret)
		vmm_stat_inc(VMM_STAT_IO_IN_KERNEL);
	return ret;
}

/* ---- ALU operations and string instructions on MMIO ---- */

#define VMM_FLAGS_ARITH	(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | \
			 X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_OF)

static u64 size_mask(unsigned int size)
{
	return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/*
 * @dst <op> @src at @size bytes, with the arithmetic flags the CPU would
 * leave in @rflags (SDM vol. 2 per instruction; AF of logic ops, which
 * the SDM leaves undefined, is cleared).
 */
static u64 alu_op(unsigned int op, unsigned int size, u64 dst, u64 src,
		  u64 *rflags)
{
	u64 mask = size_mask(size), top = 1ULL << (8 * size - 1);
	bool cin = *rflags & X86_EFLAGS_CF, keep_cf = false;
	u64 res, fl = 0, c;

	dst &= mask;
	src &= mask;
	switch (op) {
	case VMM_ALU_ADD:
	case VMM_ALU_ADC:
	case VMM_ALU_INC:
		if (op == VMM_ALU_INC) {
			src = 1;
			keep_cf = true;
		}
		c = op == VMM_ALU_ADC && cin;
		res = (dst + src + c) & mask;
		if (res < dst || (c && res == dst))
			fl |= X86_EFLAGS_CF;
		if ((dst ^ res) & (src ^ res) & top)
			fl |= X86_EFLAGS_OF;
		fl |= (dst ^ src ^ res) & X86_EFLAGS_AF;
		break;
	case VMM_ALU_SUB:
	case VMM_ALU_SBB:
	case VMM_ALU_CMP:
	case VMM_ALU_DEC:
	case VMM_ALU_NEG:
		if (op == VMM_ALU_DEC) {
			src = 1;
			keep_cf = true;
		} else if (op == VMM_ALU_NEG) {
			src = dst;
			dst = 0;
		}
		c = op == VMM_ALU_SBB && cin;
		res = (dst - src - c) & mask;
		if (dst < src || (c && dst == src))
			fl |= X86_EFLAGS_CF;
		if ((dst ^ src) & (dst ^ res) & top)
			fl |= X86_EFLAGS_OF;
		fl |= (dst ^ src ^ res) & X86_EFLAGS_AF;
		break;
	case VMM_ALU_AND:
	case VMM_ALU_TEST:
		res = dst & src;
		break;
	case VMM_ALU_OR:
		res = dst | src;
		break;
	case VMM_ALU_XOR:
		res = dst ^ src;
		break;
	default:			/* NOT: no flags */
		return ~dst & mask;
	}
	if (!res)
		fl |= X86_EFLAGS_ZF;
	if (res & top)
		fl |= X86_EFLAGS_SF;
	if (!(hweight8(res & 0xff) & 1))
		fl |= X86_EFLAGS_PF;
	if (keep_cf)
		fl = (fl & ~X86_EFLAGS_CF) | (*rflags & X86_EFLAGS_CF);
	*rflags = (*rflags & ~VMM_FLAGS_ARITH) | fl;
	return res;
}

static u64 insn_rip(struct vmm_vcpu *vcpu, const struct vmm_cpu_mode *m,
		    const struct vmm_insn *insn)
{
	return (vcpu->rip + insn->len) & rip_mask(m);
}

/* An MMIO write the instruction does: in the kernel or for userspace. */
static int mmio_write(struct vmm_vcpu *vcpu, u64 gpa, unsigned int len,
		      u64 val)
{
	struct kvm_run *run = vcpu->run;

	if (!mmio_in_kernel(vcpu, gpa, len, &val, true))
		return VMM_EXIT_CONTINUE;
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = len;
	run->mmio.is_write = 1;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	memcpy(run->mmio.data, &val, len);
	return VMM_EXIT_USER;
}

/*
 * An MMIO read: false with @val from an in-kernel device, true when a
 * read exit to userspace is set up (@pending completes it).
 */
static bool mmio_read(struct vmm_vcpu *vcpu, const struct vmm_insn *insn,
		      u64 gpa, unsigned int len, u64 *val,
		      enum vmm_pending pending)
{
	struct kvm_run *run = vcpu->run;

	*val = 0;
	if (!mmio_in_kernel(vcpu, gpa, len, val, false))
		return false;
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = len;
	run->mmio.is_write = 0;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	vcpu->pending = pending;
	vcpu->pending_insn = *insn;
	vcpu->pending_gpa = gpa;
	return true;
}

/* The memory operand's value is @mem: compute, write, step over. */
static int alu_finish(struct vmm_vcpu *vcpu, const struct vmm_cpu_mode *m,
		      const struct vmm_insn *insn, u64 gpa, u64 mem)
{
	unsigned int size = insn->mem_size;
	u64 src, res, reg = vcpu->gprs[insn->reg];

	if (insn->reg_high8)
		reg >>= 8;
	src = insn->src_imm ? insn->imm : reg;
	if (insn->alu == VMM_ALU_XCHG) {
		res = reg;
		write_reg(vcpu, insn->reg, insn->reg_high8, size, mem);
	} else if (insn->reg_dst) {
		res = alu_op(insn->alu, size, reg, mem, &vcpu->rflags);
		write_reg(vcpu, insn->reg, insn->reg_high8, size, res);
	} else {
		res = alu_op(insn->alu, size, mem, src, &vcpu->rflags);
	}
	vmm_retire_insn(vcpu, insn_rip(vcpu, m, insn));
	if (!insn->mem_dst)
		return VMM_EXIT_CONTINUE;
	return mmio_write(vcpu, gpa, size, res);
}

static int alu_mmio(struct vmm_vcpu *vcpu, const struct vmm_cpu_mode *m,
		    const struct vmm_insn *insn, u64 gpa)
{
	u64 mem;

	if (mmio_read(vcpu, insn, gpa, insn->mem_size, &mem,
		      VMM_PENDING_MMIO_ALU))
		return VMM_EXIT_USER;
	return alu_finish(vcpu, m, insn, gpa, mem);
}

static u64 string_lin(struct vmm_vcpu *vcpu, const struct vmm_cpu_mode *m,
		      const struct vmm_insn *insn, bool dst)
{
	unsigned int seg = dst ? VMM_SEG_ES :
			   insn->seg == VMM_SEG_DEFAULT ? VMM_SEG_DS : insn->seg;
	u64 off = vcpu->gprs[dst ? VMM_RDI : VMM_RSI] &
		  addr_mask(insn->addr_size);

	if (vmm_code_size(m) == 8)
		return off + (seg >= VMM_SEG_FS ? m->seg_base[seg] : 0);
	return (u32)(m->seg_base[seg] + off);
}

/*
 * One element of MOVS/STOS/LODS done: rSI/rDI step, a REP counts down
 * and keeps RIP on the instruction until rCX is 0 (the CPU runs the next
 * element, and exits again if it touches MMIO).
 */
static void string_step(struct vmm_vcpu *vcpu, const struct vmm_cpu_mode *m,
			const struct vmm_insn *insn)
{
	unsigned int asz = insn->addr_size;
	s64 step = vcpu->rflags & X86_EFLAGS_DF ? -(s64)insn->op_size :
						  insn->op_size;
	u64 mask = addr_mask(asz), rcx;

	if (insn->string_op != VMM_STR_STOS)
		set_addr_reg(vcpu, VMM_RSI, asz, vcpu->gprs[VMM_RSI] + step);
	if (insn->string_op != VMM_STR_LODS)
		set_addr_reg(vcpu, VMM_RDI, asz, vcpu->gprs[VMM_RDI] + step);
	if (insn->rep) {
		rcx = (vcpu->gprs[VMM_RCX] & mask) - 1;
		set_addr_reg(vcpu, VMM_RCX, asz, rcx);
		if (rcx & mask)
			return;
	}
	vmm_retire_insn(vcpu, insn_rip(vcpu, m, insn));
}

/* The element read from MMIO (@val) goes to rAX or the destination. */
static int string_finish_read(struct vmm_vcpu *vcpu,
			      const struct vmm_cpu_mode *m,
			      const struct vmm_insn *insn, u64 val)
{
	if (insn->string_op == VMM_STR_LODS)
		write_reg(vcpu, VMM_RAX, false, insn->op_size, val);
	else if (vmm_copy_linear(vcpu, m, string_lin(vcpu, m, insn, true),
				 &val, insn->op_size, true))
		return vmm_emulation_failed(vcpu);	/* MMIO to MMIO */
	string_step(vcpu, m, insn);
	return VMM_EXIT_CONTINUE;
}

static int string_mmio(struct vmm_vcpu *vcpu, const struct vmm_cpu_mode *m,
		       const struct vmm_insn *insn, u64 gpa)
{
	unsigned int size = insn->op_size;
	u64 val = 0, dst_gpa;
	int ret;

	if (insn->rep && !(vcpu->gprs[VMM_RCX] & addr_mask(insn->addr_size))) {
		vmm_retire_insn(vcpu, insn_rip(vcpu, m, insn));
		return VMM_EXIT_CONTINUE;
	}
	switch (insn->string_op) {
	case VMM_STR_STOS:
		val = vcpu->gprs[VMM_RAX];
		break;
	case VMM_STR_MOVS:
		/* Which side is MMIO?  The destination, if it is @gpa. */
		if (vmm_gva_to_gpa(vcpu, m, string_lin(vcpu, m, insn, true),
				   &dst_gpa) || dst_gpa != gpa)
			break;
		if (vmm_copy_linear(vcpu, m, string_lin(vcpu, m, insn, false),
				    &val, size, false))
			return vmm_emulation_failed(vcpu);
		ret = mmio_write(vcpu, gpa, size, val);
		string_step(vcpu, m, insn);
		return ret;
	}
	if (insn->string_op == VMM_STR_STOS) {
		ret = mmio_write(vcpu, gpa, size, val);
		string_step(vcpu, m, insn);
		return ret;
	}
	/* LODS, or MOVS from MMIO: read the element first. */
	if (mmio_read(vcpu, insn, gpa, size, &val, VMM_PENDING_MMIO_STRING))
		return VMM_EXIT_USER;
	return string_finish_read(vcpu, m, insn, val);
}

/*
 * A guest access to @gpa, outside RAM: done by an in-kernel device, or
 * decoded into KVM_EXIT_MMIO.
 */
int vmm_emulate_mmio(struct vmm_vcpu *vcpu, u64 gpa)
{
	struct kvm_run *run = vcpu->run;
	struct vmm_cpu_mode m;
	struct vmm_insn insn;
	u64 val;

	vcpu->vm->ops->get_cpu_mode(vcpu, &m);
	if (vmm_fetch_decode(vcpu, &m, &insn) || insn.kind == VMM_INSN_OTHER ||
	    insn.mem_size > 8)
		return vmm_emulation_failed(vcpu);
	if (insn.kind == VMM_INSN_ALU)
		return alu_mmio(vcpu, &m, &insn, gpa);
	if (insn.kind == VMM_INSN_STRING)
		return string_mmio(vcpu, &m, &insn, gpa);

	if (insn.kind == VMM_INSN_LOAD) {
		val = 0;
		if (!mmio_in_kernel(vcpu, gpa, insn.mem_size, &val, false)) {
			if (insn.sign_extend) {
				unsigned int sh = 64 - 8 * insn.mem_size;

				val = (u64)((s64)(val << sh) >> sh);
			}
			write_reg(vcpu, insn.reg, insn.reg_high8,
				  insn.dst_size, val);
			goto done;
		}
	} else {
		if (insn.kind == VMM_INSN_STORE_IMM) {
			val = insn.imm;
		} else {
			val = vcpu->gprs[insn.reg];
			if (insn.reg_high8)
				val >>= 8;
		}
		if (!mmio_in_kernel(vcpu, gpa, insn.mem_size, &val, true))
			goto done;
	}

	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = insn.mem_size;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));

	if (insn.kind == VMM_INSN_LOAD) {
		run->mmio.is_write = 0;
		vcpu->pending = VMM_PENDING_MMIO_READ;
		vcpu->pending_rip = (vcpu->rip + insn.len) & rip_mask(&m);
		vcpu->pending_reg = insn.reg;
		vcpu->pending_high8 = insn.reg_high8;
		vcpu->pending_size = insn.dst_size;
		vcpu->pending_len = insn.mem_size;
		vcpu->pending_sext = insn.sign_extend;
		return VMM_EXIT_USER;
	}

	if (insn.kind == VMM_INSN_STORE_IMM) {
		val = insn.imm;
	} else {
		val = vcpu->gprs[insn.reg];
		if (insn.reg_high8)
			val >>= 8;
	}
	run->mmio.is_write = 1;
	memcpy(run->mmio.data, &val, insn.mem_size);
	vmm_retire_insn(vcpu, (vcpu->rip + insn.len) & rip_mask(&m));
	return VMM_EXIT_USER;

done:
	vmm_retire_insn(vcpu, (vcpu->rip + insn.len) & rip_mask(&m));
	return VMM_EXIT_CONTINUE;
}
EXPORT_SYMBOL_GPL(vmm_emulate_mmio);

/* ---- Completion of userspace I/O at the next KVM_RUN ---- */

/*
 * Caller holds vm->srcu: INS completion writes guest memory.  Returns
 * VMM_EXIT_USER when the completion made a new exit (the write of a
 * read-modify-write), else VMM_EXIT_CONTINUE.
 */
int vmm_complete_pending(struct vmm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vmm_cpu_mode m;
	u64 val = 0;

	switch (vcpu->pending) {
	case VMM_PENDING_MMIO_ALU:
	case VMM_PENDING_MMIO_STRING: {
		struct vmm_insn *insn = &vcpu->pending_insn;

		vcpu->pending = VMM_PENDING_NONE;
		memcpy(&val, run->mmio.data, insn->mem_size);
		vcpu->vm->ops->get_cpu_mode(vcpu, &m);
		if (insn->kind == VMM_INSN_ALU)
			return alu_finish(vcpu, &m, insn, vcpu->pending_gpa, val);
		return string_finish_read(vcpu, &m, insn, val);
	}
	case VMM_PENDING_PIO_IN:
		memcpy(&val, page_address(vcpu->pio_page), vcpu->pending_size);
		write_reg(vcpu, VMM_RAX, false, vcpu->pending_size, val);
		break;
	case VMM_PENDING_PIO_INS: {
		const struct vmm_io *io = &vcpu->pending_io;

		vcpu->pending = VMM_PENDING_NONE;
		vcpu->vm->ops->get_cpu_mode(vcpu, &m);
		/* A vanished destination drops the data, as on a bus error. */
		vmm_copy_linear(vcpu, &m, string_addr(vcpu, &m, io),
				page_address(vcpu->pio_page),
				vcpu->pending_count * io->size, true);
		string_done(vcpu, io, vcpu->pending_count);
		return VMM_EXIT_CONTINUE;
	}
	case VMM_PENDING_MMIO_READ:
		memcpy(&val, run->mmio.data, vcpu->pending_len);
		if (vcpu->pending_sext) {
			unsigned int sh = 64 - 8 * vcpu->pending_len;

			val = (u64)((s64)(val << sh) >> sh);
		}
		write_reg(vcpu, vcpu->pending_reg, vcpu->pending_high8,
			  vcpu->pending_size, val);
		break;
	default:
		return VMM_EXIT_CONTINUE;
	}
	vmm_retire_insn(vcpu, vcpu->pending_rip);
	vcpu->pending = VMM_PENDING_NONE;
	return VMM_EXIT_CONTINUE;
}
