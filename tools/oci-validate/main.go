// oci-validate checks an OCI runtime bundle's config.json with opencontainers/runtime-tools'
// validate package (Debian: golang-github-opencontainers-runtime-tools-dev), as its
// oci-runtime-tool does, with two differences the package's own command could not run here:
//
//   - The JSON Schema is the runtime-spec's own file on this machine (GOPATH's copy of
//     runtime-spec/schema), not a download from raw.githubusercontent.com: tests run offline.
//   - The package validates only its own spec version (1.0.2-dev here) and refuses any other
//     with "validate currently only handles version ...". boxwalk writes the released 1.0.2 that
//     crun and runc read; that one message is left out, every other check stands.
//
// Built by boxwalk's tests (BundleValidationTests) with GOPATH=/usr/share/gocode GO111MODULE=off.
// usage: oci-validate BUNDLE; prints "valid" and exits 0, or each finding and exits 1.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-multierror"
	"github.com/opencontainers/runtime-tools/validate"
	"github.com/xeipuuv/gojsonschema"
)

const schema = "/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema/config-schema.json"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: oci-validate BUNDLE")
		os.Exit(2)
	}
	bundle, err := filepath.Abs(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var errs *multierror.Error
	result, err := gojsonschema.Validate(
		gojsonschema.NewReferenceLoader("file://"+schema),
		gojsonschema.NewReferenceLoader("file://"+filepath.Join(bundle, "config.json")))
	if err != nil {
		errs = multierror.Append(errs, err)
	} else {
		for _, e := range result.Errors() {
			errs = multierror.Append(errs, fmt.Errorf("schema: %s", e))
		}
	}
	v, err := validate.NewValidatorFromPath(bundle, false, "linux")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	for _, check := range []func() error{
		v.CheckPlatform, v.CheckRoot, v.CheckMandatoryFields, v.CheckSemVer, v.CheckMounts,
		v.CheckProcess, v.CheckLinux, v.CheckAnnotations, v.CheckHooks,
	} {
		err := check()
		if merr, ok := err.(*multierror.Error); ok && merr != nil {
			for _, e := range merr.Errors {
				if !strings.HasPrefix(e.Error(), "validate currently only handles version") {
					errs = multierror.Append(errs, e)
				}
			}
		} else if err != nil && !strings.HasPrefix(err.Error(), "validate currently only handles version") {
			errs = multierror.Append(errs, err)
		}
	}
	if errs.ErrorOrNil() != nil {
		fmt.Println(errs.Error())
		os.Exit(1)
	}
	fmt.Println("valid")
}
