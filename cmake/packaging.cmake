# The Debian package of the media server, made by CPack's DEB generator:
#   cmake --build build --target package    ->  build/ivs-media-server_<version>_<arch>.deb
# It holds only what a server needs (tests/process/test_deb_package.py checks the exact list):
#   /usr/bin/media-server                         the one executable (stripped)
#   /lib/systemd/system/ivs-media-server.service  packaging/debian's copy of deploy/systemd's unit
#   /etc/ivs-media-server/env                     .env.example, a conffile
#   /usr/share/doc/ivs-media-server/              README.md and docs/
# with the maintainer scripts of packaging/debian/ (the system user ivs-media-server) and
# Depends found by dpkg-shlibdeps. docs/deployment.md says how to install and run it.

# The Dockerfile's build context has neither packaging/ nor the docs: no package there.
if(NOT EXISTS ${PROJECT_SOURCE_DIR}/packaging/debian/postinst)
  return()
endif()

set(ivs_debian ${PROJECT_SOURCE_DIR}/packaging/debian)

# The only install() rules of the project, so `package` cannot pick up tests or tools. The
# absolute destinations are where Debian puts configuration and units, whatever the prefix.
install(TARGETS media-server RUNTIME DESTINATION bin)
install(FILES ${ivs_debian}/ivs-media-server.service DESTINATION /lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/.env.example DESTINATION /etc/ivs-media-server RENAME env
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/ivs-media-server)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION share/doc/ivs-media-server/docs
  FILES_MATCHING PATTERN "*.md")

set(IVS_PACKAGE_MAINTAINER "IVS Media Server maintainers <ivs-media-server@localhost>"
  CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ivs-media-server)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# The RelWithDebInfo binary carries its debug information; a server installation does not need it.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${IVS_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "WHIP ingest re-published over WHIP to every Amazon IVS Real-Time stage")
# The extended description under the summary line: CPack indents each line for the control file.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "One broadcaster publishes one WebRTC stream (OBS or a browser) to this media server,
which relays it without transcoding to every stage its API server lists. The one
executable also has the reference API server, a local stand-in for IVS stages, a
test publisher and a demo of the whole system. The systemd unit runs `serve`.")
# The libraries the binary links come from dpkg-shlibdeps; postinst and postrm call useradd,
# userdel and groupdel (passwd). ffmpeg is only for the test publisher's generated media.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "ffmpeg")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${ivs_debian}/postinst ${ivs_debian}/prerm ${ivs_debian}/postrm ${ivs_debian}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# `package_source` is not a supported way to ship this project; only the DEB is configured.
set(CPACK_SOURCE_GENERATOR "")
include(CPack)
