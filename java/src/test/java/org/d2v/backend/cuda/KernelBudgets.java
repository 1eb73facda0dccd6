package org.d2v.backend.cuda;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The static checks of the CUDA-only kernels: kernels/budgets.txt names, per kernel, the largest
 * register count and static shared memory it may use and the instructions its PTX must contain;
 * {@link #check} holds a build's PTX and ptxas report against it (no GPU needed). It also requires
 * zero spill bytes and no stack frame on every architecture, a budget line for every kernel the
 * sources declare, and that every budgeted kernel was built.
 */
final class KernelBudgets {
    /** The instruction families a budget line may require, as regular expressions over PTX lines. */
    static final Map<String, Pattern> FEATURES = new LinkedHashMap<>();

    static {
        FEATURES.put("mma", Pattern.compile("^\\s*mma\\.sync\\.aligned\\.m16n8k16\\.row\\.col\\.f32\\.bf16\\.bf16\\.f32\\b", Pattern.MULTILINE));
        FEATURES.put("ldmatrix", Pattern.compile("^\\s*ldmatrix\\.sync\\.aligned\\.m8n8\\.x4\\.shared\\.b16\\b", Pattern.MULTILINE));
        FEATURES.put("ldmatrix.trans", Pattern.compile("^\\s*ldmatrix\\.sync\\.aligned\\.m8n8\\.x4\\.trans\\.shared\\.b16\\b", Pattern.MULTILINE));
        FEATURES.put("cp.async", Pattern.compile("^\\s*cp\\.async\\.cg\\.shared\\.global\\b", Pattern.MULTILINE));
        FEATURES.put("wgmma", Pattern.compile("^\\s*wgmma\\.mma_async\\b", Pattern.MULTILINE));
        FEATURES.put("ld.v4", Pattern.compile("^\\s*ld\\.global(\\.nc)?\\.v4\\.", Pattern.MULTILINE));
        FEATURES.put("st.v4", Pattern.compile("^\\s*st\\.global\\.v4\\.", Pattern.MULTILINE));
    }

    record Budget(String program, String kernel, int maxRegisters, int maxShared, List<String> features, int line) {
        String name() { return program + "/" + kernel; }
    }

    /** ptxas's figures for one kernel on one architecture. */
    record Resources(int registers, int shared, int stack, int spillStores, int spillLoads) {}

    private KernelBudgets() {}

    /** Parses budgets.txt: "program/kernel  registers  shared-bytes  feature,feature,..." ('#' starts a comment). */
    static List<Budget> parse(List<String> lines, String file) {
        List<Budget> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i).replaceAll("#.*", "").trim();
            if (l.isEmpty()) continue;
            String[] f = l.split("\\s+");
            String where = file + ":" + (i + 1) + ": ";
            if (f.length != 4 || !f[0].contains("/")) {
                throw new IllegalArgumentException(where + "expected 'program/kernel registers shared features', got '" + l + "'");
            }
            List<String> features = List.of(f[3].split(","));
            for (String feat : features) {
                if (!FEATURES.containsKey(feat)) throw new IllegalArgumentException(where + "unknown feature '" + feat + "'; known: " + FEATURES.keySet());
            }
            try {
                out.add(new Budget(f[0].substring(0, f[0].indexOf('/')), f[0].substring(f[0].indexOf('/') + 1),
                        Integer.parseInt(f[1]), Integer.parseInt(f[2]), features, i + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + "registers and shared bytes must be integers: '" + l + "'");
            }
        }
        return out;
    }

    private static final Pattern ENTRY = Pattern.compile("^\\.(?:visible|weak)\\s+\\.entry\\s+(\\w+)\\s*\\(", Pattern.MULTILINE);
    private static final Pattern FUNC = Pattern.compile("^\\.(?:visible\\s+|weak\\s+)?\\.func\\s+(?:\\([^)]*\\)\\s*)?(\\w+)\\s*\\(", Pattern.MULTILINE);
    private static final Pattern CALL = Pattern.compile("^\\s*call(?:\\.uni)?\\s+(?:\\([^)]*\\),\\s*)?(\\w+)", Pattern.MULTILINE);

    /** The text of every .entry in a PTX file, with the bodies of the .func it calls appended. */
    static Map<String, String> entries(String ptx) {
        Map<String, String> funcs = bodies(ptx, FUNC), entries = bodies(ptx, ENTRY), out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : entries.entrySet()) {
            StringBuilder body = new StringBuilder(e.getValue());
            Matcher c = CALL.matcher(e.getValue());
            while (c.find()) {
                String f = funcs.get(c.group(1));
                if (f != null) body.append('\n').append(f);
            }
            out.put(e.getKey(), body.toString());
        }
        return out;
    }

    /** name → text from the declaration to the closing brace of its body (braces balanced). */
    private static Map<String, String> bodies(String ptx, Pattern head) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = head.matcher(ptx);
        while (m.find()) {
            int open = ptx.indexOf('{', m.end());
            if (open < 0) continue;
            int depth = 0, i = open;
            for (; i < ptx.length(); i++) {
                char ch = ptx.charAt(i);
                if (ch == '{') depth++;
                else if (ch == '}' && --depth == 0) break;
            }
            out.put(m.group(1), ptx.substring(m.start(), Math.min(i + 1, ptx.length())));
        }
        return out;
    }

    /** kernel → arch → resources, from `ptxas -v` output (nvcc -Xptxas -v). */
    static Map<String, Map<String, Resources>> ptxas(String log) {
        Map<String, Map<String, Resources>> out = new LinkedHashMap<>();
        Pattern compiling = Pattern.compile("Compiling entry function '(\\w+)' for '(\\w+)'");
        Pattern frame = Pattern.compile("(\\d+) bytes stack frame, (\\d+) bytes spill stores, (\\d+) bytes spill loads");
        Pattern used = Pattern.compile("Used (\\d+) registers(?:.*?, (\\d+) bytes smem)?");
        String kernel = null, arch = null;
        int stack = 0, stores = 0, loads = 0;
        for (String line : log.split("\n")) {
            Matcher m = compiling.matcher(line);
            if (m.find()) { kernel = m.group(1); arch = m.group(2); stack = stores = loads = 0; continue; }
            m = frame.matcher(line);
            if (m.find()) { stack = Integer.parseInt(m.group(1)); stores = Integer.parseInt(m.group(2)); loads = Integer.parseInt(m.group(3)); continue; }
            m = used.matcher(line);
            if (m.find() && kernel != null) {
                int smem = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
                out.computeIfAbsent(kernel, k -> new LinkedHashMap<>())
                        .put(arch, new Resources(Integer.parseInt(m.group(1)), smem, stack, stores, loads));
                kernel = null;
            }
        }
        return out;
    }

    /**
     * Every violation of the budgets by a build: declared maps program → kernels in its source;
     * ptx maps program → (virtual arch → PTX text); logs maps program → ptxas output;
     * archs are the SASS architectures every kernel must have been compiled for.
     */
    static List<String> check(List<Budget> budgets, Map<String, List<String>> declared, Map<String, Map<String, String>> ptx,
                              Map<String, String> logs, List<String> archs) {
        List<String> bad = new ArrayList<>();
        Map<String, Budget> byName = new LinkedHashMap<>();
        for (Budget b : budgets) {
            if (byName.put(b.name(), b) != null) bad.add(b.name() + ": two budget lines (line " + b.line() + ")");
        }
        declared.forEach((program, kernels) -> {
            for (String k : kernels) {
                if (!byName.containsKey(program + "/" + k)) bad.add(program + "/" + k + ": declared in kernels/" + program + ".cu but has no budget line");
            }
        });
        for (Budget b : budgets) {
            List<String> inSource = declared.get(b.program());
            if (inSource == null || !inSource.contains(b.kernel())) {
                bad.add(b.name() + ": budget line " + b.line() + " names a kernel that kernels/" + b.program() + ".cu does not declare");
                continue;
            }
            Map<String, Resources> res = ptxas(logs.getOrDefault(b.program(), "")).get(b.kernel());
            for (String arch : archs) {
                Resources r = res == null ? null : res.get(arch);
                if (r == null) { bad.add(b.name() + ": no ptxas report for " + arch); continue; }
                if (r.spillStores() + r.spillLoads() > 0) bad.add(b.name() + " on " + arch + ": spills (" + r.spillStores() + " B stores, " + r.spillLoads() + " B loads)");
                if (r.stack() > 0) bad.add(b.name() + " on " + arch + ": a " + r.stack() + "-byte stack frame (local memory)");
                if (r.registers() > b.maxRegisters()) bad.add(b.name() + " on " + arch + ": " + r.registers() + " registers > budget " + b.maxRegisters());
                if (r.shared() > b.maxShared()) bad.add(b.name() + " on " + arch + ": " + r.shared() + " B shared memory > budget " + b.maxShared());
            }
            Map<String, String> files = ptx.getOrDefault(b.program(), Map.of());
            if (files.isEmpty()) bad.add(b.name() + ": no PTX");
            files.forEach((varch, text) -> {
                String body = entries(text).get(b.kernel());
                if (body == null) { bad.add(b.name() + ": no .entry in the " + varch + " PTX"); return; }
                for (String f : b.features()) {
                    if (!FEATURES.get(f).matcher(body).find()) bad.add(b.name() + ": the " + varch + " PTX has no " + f + " instruction");
                }
            });
        }
        return bad;
    }
}
