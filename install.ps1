# Installs omniclaude for the current user on Windows from this checkout, or removes it: .\install.ps1 --help
# It only runs `py -3 -m omniclaude.installer <arguments>` with this checkout's lib\ first on the path; the
# installer does every step (the same as install.sh does on Linux and macOS). Without the py launcher it
# uses `python` from PATH, unless that is the Microsoft Store alias (which only says Python is missing);
# --python C:\path\to\python.exe chooses the interpreter.
$ErrorActionPreference = 'Stop'
$lib = Join-Path $PSScriptRoot 'lib'
if (-not (Test-Path (Join-Path $lib 'omniclaude\installer.py'))) {
    [Console]::Error.WriteLine("install.ps1: $PSScriptRoot does not look like an omniclaude checkout (no lib\omniclaude\installer.py)")
    exit 1
}
$env:PYTHONPATH = (@($lib, $env:PYTHONPATH) | Where-Object { $_ }) -join ';'

$python = @()
for ($i = 0; $i -lt $args.Count; $i++) {
    if ($args[$i] -eq '--python' -and $i + 1 -lt $args.Count) { $python = @($args[$i + 1]) }
    elseif ($args[$i] -like '--python=*') { $python = @($args[$i].Substring(9)) }
}
if ($python.Count -eq 0 -and (Get-Command py -ErrorAction SilentlyContinue)) {
    $python = @('py', '-3')
}
if ($python.Count -eq 0) {
    $found = Get-Command python -ErrorAction SilentlyContinue
    if ($found -and $found.Source -notlike '*\WindowsApps\*') { $python = @($found.Source) }
}
if ($python.Count -eq 0) {
    [Console]::Error.WriteLine('install.ps1: no Python found: install Python >= 3.10 from python.org (it brings the py launcher), or pass --python C:\path\to\python.exe')
    exit 1
}
$exe = $python[0]
$launcher = @($python | Select-Object -Skip 1)
& $exe @launcher -B -s -m omniclaude.installer @args
exit $LASTEXITCODE
