// The tito subcommands. Each returns the process exit code: 0 when everything it checked
// passed, 1 when tests fail or a milestone is locked; problems throw tito::Error.
#pragma once

#include <string>
#include <vector>

#include "project.hpp"
#include "release.hpp"

namespace tito {

int cmd_release(const Project& project, const ReleaseOptions& options);
int cmd_test(const Project& project, const std::string& module);
int cmd_status(const Project& project);
int cmd_complete(const Project& project, const std::string& module);
/// The program runs in the project's root: the files its flags name (--report, --csv, as
/// "--report F" or "--report=F") are made absolute from the folder tito was started in.
std::vector<std::string> files_from_here(std::vector<std::string> flags);
int cmd_milestone_run(const Project& project, const std::string& milestone,
                      const std::vector<std::string>& flags);

}  // namespace tito
