//===- Error.h - libqrt's per-thread error message, inside libqrt -*- C++
//-*-===//

#ifndef QOPT_LIB_RUNTIME_ERROR_H
#define QOPT_LIB_RUNTIME_ERROR_H

#include <string>

namespace qrt {
/// Sets what qrt_last_error() returns on this thread (Runtime.cpp owns it).
void setLastError(std::string message);
} // namespace qrt

#endif // QOPT_LIB_RUNTIME_ERROR_H
