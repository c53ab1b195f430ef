package org.nestlm;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.constantpool.ClassEntry;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.classfile.constantpool.Utf8Entry;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The classes a compiled class refers to, read from its constant pool: the rule tests of the package structure
 * (which package may reach which) check what the bytecode uses, whatever the imports say.
 */
public final class ClassReferences {

    /** A class named inside a field or method descriptor: {@code Lorg/nestlm/cli/Main;}. */
    private static final Pattern CLASS_IN_DESCRIPTOR = Pattern.compile("L([\\w/$]+);");

    private ClassReferences() {
    }

    /** Internal names ({@code org/nestlm/cli/Main}) of every class entry and every class inside a descriptor, less the class itself. */
    public static TreeSet<String> of(byte[] classFile, String internalName) {
        TreeSet<String> out = new TreeSet<>();
        ClassModel cm = ClassFile.of().parse(classFile);
        for (PoolEntry e : cm.constantPool()) {
            if (e instanceof ClassEntry ce) {
                String n = ce.asInternalName();
                int array = n.lastIndexOf('[');
                out.add(array >= 0 && n.endsWith(";") ? n.substring(array + 2, n.length() - 1) : n);
            } else if (e instanceof Utf8Entry u) {
                Matcher m = CLASS_IN_DESCRIPTOR.matcher(u.stringValue());
                while (m.find()) {
                    out.add(m.group(1));
                }
            }
        }
        out.remove(internalName);
        return out;
    }
}
