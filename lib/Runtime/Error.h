//===- Error.h - libqrt's per-thread error message, inside libqrt -*- C++
//-*-===//

#ifndef QOPT_LIB_RUNTIME_ERROR_H
#define QOPT_LIB_RUNTIME_ERROR_H

#include <string>

namespace qrt {
/// Sets what qrt_last_error() returns on this thread (Runtime.cpp owns it).
void setLastError(std::string message);
/// Ends the artifact run in progress on this thread with `status` and
/// `message` (what qrt_session_run returns); does not return. Outside a run
/// it prints the message and aborts.
[[noreturn]] void runFailed(int status, const std::string &message);
} // namespace qrt

#endif // QOPT_LIB_RUNTIME_ERROR_H
