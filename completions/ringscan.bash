# bash completion for ringscan(1)                          -*- shell-script -*-
#
# Installed as share/bash-completion/completions/ringscan, where
# bash-completion loads it the first time "ringscan <TAB>" is typed; or
# source it. Uses bash-completion's helpers (_init_completion, _filedir)
# where they are loaded, plain compgen otherwise.
#
# The option list below must be that of `ringscan --help`, and the -f
# values its format list: tests/e2e/test_completion.sh compares them. A
# new option goes in the list at the end (and in a case above if it takes
# a file or a fixed set of values), and in docs/ringscan.1.
# Targets (addresses) are never completed: what to scan is the user's
# choice, never a guess from known hosts.
# shellcheck disable=SC2034,SC2207 # words, cword: _init_completion's; COMPREPLY=($(compgen)) as usual

# _ringscan_files: complete file names (directories to descend into too).
_ringscan_files()
{
    if declare -F _filedir >/dev/null; then
        _filedir
    else
        compopt -o filenames 2>/dev/null
        local IFS=$'\n'
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}

_ringscan()
{
    local cur prev words cword split=false
    if declare -F _init_completion >/dev/null; then
        _init_completion -s || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        # "--opt=value" reaches us as "--opt" "=" "value" (= breaks words).
        if [[ $cur == = ]]; then
            cur=
        elif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
            prev=${COMP_WORDS[COMP_CWORD - 2]}
        fi
        if [[ $cur == --*=* ]]; then
            prev=${cur%%=*}
            cur=${cur#*=}
            split=true
        fi
    fi

    case $prev in
        -f | --format)
            COMPREPLY=($(compgen -W 'jsonl csv list xml' -- "$cur"))
            return
            ;;
        --engine)
            COMPREPLY=($(compgen -W 'auto uring epoll compat' -- "$cur"))
            return
            ;;
        --service-intensity)
            COMPREPLY=($(compgen -W '0 1 2 3 4 5 6 7 8 9' -- "$cur"))
            return
            ;;
        -i | --input | -o | --output | --stats | --resume | --exclude-file | --service-db | \
            --db)
            _ringscan_files
            return
            ;;
        -p | --ports | --exclude | -w | --workers | -c | --concurrency | -r | --rate | \
            -t | --timeout | --retries | --seed | --shard | --checkpoint-interval | \
            --read-timeout)
            # a number, a list or a range: nothing to offer
            return
            ;;
        -h | --help | -V | --version)
            return
            ;;
    esac
    $split && return

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '-p --ports -i --input --exclude --exclude-file
            --allow-reserved -o --output -f --format --all -w --workers
            -c --concurrency -r --rate --fixed-rate -t --timeout --retries
            --seed --shard --dry-run --resume --checkpoint-interval -q --quiet
            --stats --engine --banner --service --service-intensity
            --service-db --read-timeout --db -h --help -V --version' -- "$cur"))
        return
    fi
} &&
    complete -F _ringscan ringscan

# ex: filetype=sh
