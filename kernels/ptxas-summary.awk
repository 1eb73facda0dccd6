# One line per kernel from `ptxas -v` output (portable awk: mawk and gawk): registers, shared
# memory, stack frame (per-thread local memory: arrays the compiler could not keep in registers)
# and spill bytes for each architecture; "SPILLS" at the end when any architecture spills, else
# "LOCAL" when a kernel has a stack frame (slow, like spills, but chosen by the code).
# Called by kernels/build.sh with -v program=<name>.

# The text between the first pair of single quotes after `key`, e.g. the kernel or the arch.
function quoted(line, key,    rest) {
    rest = substr(line, index(line, key) + length(key))
    rest = substr(rest, index(rest, "'") + 1)
    return substr(rest, 1, index(rest, "'") - 1)
}

# The integer just before `suffix` in line ("18 registers" -> 18); 0 when absent.
function before(line, suffix,    i, head, n) {
    i = index(line, suffix)
    if (i == 0) return 0
    head = substr(line, 1, i - 1)
    sub(/ +$/, "", head)
    n = split(head, w, /[ ,]+/)
    return w[n] + 0
}

/Compiling entry function/ {
    kernel = quoted($0, "function")
    arch = quoted($0, " for ")
    if (!(kernel in seen)) { seen[kernel] = 1; names[++n] = kernel }
    if (!(arch in archSeen)) { archSeen[arch] = 1; archs[++na] = arch }
}
/bytes spill stores/ { sf[kernel, arch] = before($0, "bytes stack frame"); st[kernel, arch] = before($0, "bytes spill stores"); ld[kernel, arch] = before($0, "bytes spill loads") }
/Used [0-9]+ registers/ { regs[kernel, arch] = before($0, "registers"); smem[kernel, arch] = before($0, "bytes smem") }

END {
    for (i = 1; i <= n; i++) {
        k = names[i]; line = sprintf("%-40s", program "/" k); spills = 0; local = 0
        for (j = 1; j <= na; j++) {
            a = archs[j]
            if (!((k, a) in regs)) continue
            line = line sprintf("  %s: %3d regs %6d B smem %5d B stack %d/%d B spill", a, regs[k, a], smem[k, a], sf[k, a], st[k, a], ld[k, a])
            if (st[k, a] + ld[k, a] > 0) spills = 1
            if (sf[k, a] > 0) local = 1
        }
        print line (spills ? "  SPILLS" : local ? "  LOCAL" : "")
    }
}
